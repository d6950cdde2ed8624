package client

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateChannel(t *testing.T) {
	tests := []struct {
		name, channel string
		want          []string // substrings of the error; none: valid
	}{
		{"colon and comma", "orders:user-123,a@b=c.d_e", nil},
		{"longest", strings.Repeat("x", MaxChannelLen), nil},
		{"empty", "", []string{"channel name is empty"}},
		{"too long and bad characters", strings.Repeat("x", 130) + "/ ",
			[]string{"is 132 characters; at most 128", "'/' at position 131", "' ' at position 132"}},
		{"many bad characters", "a b c d e", []string{"' ' at position 2", "' ' at position 6", "more"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateChannel(tc.channel)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ValidateChannel(%q) = %v", tc.channel, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidChannel) {
				t.Fatalf("err = %v, want ErrInvalidChannel", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to say %q", err, w)
				}
			}
		})
	}
}
