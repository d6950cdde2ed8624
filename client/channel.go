package client

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxChannelLen is the longest channel name the protocol allows, in
// characters.
const MaxChannelLen = 128

// channelChars lists the characters allowed besides ASCII letters and
// digits, as the protocol defines them.
const channelChars = "-_:.@=,"

// ErrInvalidChannel is returned (wrapped, with a sentence saying what is
// wrong) by every call given a channel name the protocol refuses; nothing
// is sent then.
var ErrInvalidChannel = errors.New("invalid channel name")

// ValidateChannel returns nil if name is a valid channel name: 1 to
// MaxChannelLen characters, each an ASCII letter or digit or one of
// - _ : . @ = , — otherwise an error wrapping ErrInvalidChannel that names
// every problem.
func ValidateChannel(name string) error {
	if name == "" {
		return fmt.Errorf("%w: channel name is empty; names are 1-%d characters of a-z A-Z 0-9 %s", ErrInvalidChannel, MaxChannelLen, spaced(channelChars))
	}
	var problems []string
	if n := utf8.RuneCountInString(name); n > MaxChannelLen {
		problems = append(problems, fmt.Sprintf("channel name is %d characters; at most %d are allowed", n, MaxChannelLen))
	}
	pos := 0
	var bad []string
	for _, r := range name {
		pos++
		if r < utf8.RuneSelf && channelChar(byte(r)) {
			continue
		}
		if len(bad) < 3 {
			bad = append(bad, fmt.Sprintf("%q at position %d", r, pos))
		} else if len(bad) == 3 {
			bad = append(bad, "more")
		}
	}
	if len(bad) > 0 {
		problems = append(problems, fmt.Sprintf("channel name %s contains %s; allowed are a-z A-Z 0-9 %s",
			quoteShort(name), strings.Join(bad, ", "), spaced(channelChars)))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidChannel, strings.Join(problems, "; "))
}

func channelChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(channelChars, c) >= 0
}

// spaced writes "-_:" as "- _ :".
func spaced(chars string) string {
	return strings.Join(strings.Split(chars, ""), " ")
}

// quoteShort quotes s, cut to its first 40 characters.
func quoteShort(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…", string([]rune(s)[:40]))
}

// channelPath is the escaped REST path of a channel's messages.
func channelPath(channel string) string {
	return "/api/v1/channels/" + url.PathEscape(channel) + "/messages"
}
