package api

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the protocol.
const (
	MaxChannelLen        = 128
	MaxEventTypeLen      = 64
	MaxClientIDLen       = 128
	MaxIdempotencyKeyLen = 128
	MaxMessageBytes      = 32 << 10
	DefaultEventType     = "message"
)

func channelChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("-_:.@=,", c) >= 0
}

// validChannel returns nil or a sentence naming what is wrong with a name.
func validChannel(name string) *apiError {
	if name == "" {
		return errorf(CodeValidation, "channel name is empty; names are 1-%d characters of a-z A-Z 0-9 - _ : . @ = ,", MaxChannelLen)
	}
	if name == "." || name == ".." {
		return errorf(CodeValidation, "channel names . and .. are not allowed: URLs collapse them as path segments, so such a channel could be created but never published to or deleted")
	}
	if len(name) > MaxChannelLen {
		return errorf(CodeValidation, "channel name is %d characters; at most %d are allowed", len(name), MaxChannelLen)
	}
	for i := 0; i < len(name); i++ {
		if !channelChar(name[i]) {
			// Name the character, never the name: error replies do not
			// repeat what the client sent.
			r, _ := utf8.DecodeRuneInString(name[i:])
			return errorf(CodeValidation, "channel name contains %s at position %d; allowed are a-z A-Z 0-9 - _ : . @ = ,", describeRune(r), i+1)
		}
	}
	return nil
}

// describeRune names a character for an error: quoted when it is
// printable ASCII, else by its code point.
func describeRune(r rune) string {
	if r >= 0x20 && r < 0x7f {
		return fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf("%U", r)
}

func validEventType(ev string) *apiError {
	n := utf8.RuneCountInString(ev)
	if n < 1 || n > MaxEventTypeLen {
		return errorf(CodeValidation, "eventType is %d characters; 1-%d are allowed", n, MaxEventTypeLen)
	}
	if !utf8.ValidString(ev) {
		return errorf(CodeValidation, "eventType is not valid UTF-8")
	}
	for _, r := range ev {
		if unicode.IsControl(r) {
			return errorf(CodeValidation, "eventType contains the control character %U", r)
		}
	}
	return nil
}

func validClientID(id string) *apiError {
	if len(id) > MaxClientIDLen {
		return errorf(CodeValidation, "clientId is %d bytes; at most %d are allowed", len(id), MaxClientIDLen)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return errorf(CodeValidation, "clientId contains the control character %U", r)
		}
	}
	return nil
}

// joinProblems merges several validation problems into one error.
func joinProblems(ps []*apiError) *apiError {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	msgs := make([]string, len(ps))
	code := CodeValidation
	for i, p := range ps {
		msgs[i] = p.Message
		if p.Code == CodePayloadTooLarge {
			code = p.Code
		}
	}
	return &apiError{Code: code, Message: fmt.Sprintf("%d problems: %s", len(ps), strings.Join(msgs, "; "))}
}
