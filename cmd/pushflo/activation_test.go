package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestInheritedListeners_Refusals: socket-activation variables that do not
// fit are refused with a sentence naming the value; variables meant for
// another process are ignored. (Sockets actually passed are used by every
// end-to-end test: client/testproc starts nodes that way.)
func TestInheritedListeners_Refusals(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		name, pid, fds, names, want string
	}{
		{"another process", "1", "2", "http:raft", ""},
		{"count not a number", pid, "two", "http:raft", `LISTEN_FDS is "two"`},
		{"names do not match the count", pid, "2", "http", `LISTEN_FDNAMES is "http", naming 1 sockets for LISTEN_FDS=2`},
		{"unnamed", pid, "1", "", `LISTEN_FDNAMES is ""`},
		{"unknown name", pid, "1", "grpc", `names socket 1 "grpc"; serve takes http, raft and debug`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LISTEN_PID", tc.pid)
			t.Setenv("LISTEN_FDS", tc.fds)
			t.Setenv("LISTEN_FDNAMES", tc.names)
			lns, err := inheritedListeners()
			if tc.want == "" {
				if err != nil || len(lns) != 0 {
					t.Fatalf("got %v, %v; want no sockets and no error", lns, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want an error containing %q", err, tc.want)
			}
			if _, set := os.LookupEnv("LISTEN_FDS"); set {
				t.Error("LISTEN_FDS is still set: a child would take the sockets too")
			}
		})
	}
}
