package main

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// socketNames are the sockets serve takes from a service manager, by their
// LISTEN_FDNAMES name (FileDescriptorName= in a systemd .socket unit):
// REST, WebSocket and SSE (instead of --http-addr), Raft between nodes
// (instead of --raft-addr) and pprof (instead of --debug-addr).
var socketNames = []string{"http", "raft", "debug"}

// inheritedListeners returns the listening sockets passed to this process
// by systemd's socket-activation protocol (sd_listen_fds(3)), by name:
// LISTEN_PID is this process's ID, LISTEN_FDS counts descriptors from 3
// on, LISTEN_FDNAMES names them, colon-separated. With LISTEN_PID unset
// or naming another process it returns none. It unsets the three
// variables so no child inherits them.
func inheritedListeners() (map[string]net.Listener, error) {
	pid, fds, names := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if pid == "" || pid != strconv.Itoa(os.Getpid()) {
		return nil, nil
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 || n > 16 {
		return nil, fmt.Errorf("LISTEN_FDS is %q; want the number of sockets passed (at most 16)", fds)
	}
	list := strings.Split(names, ":")
	if names == "" || len(list) != n {
		return nil, fmt.Errorf("LISTEN_FDNAMES is %q, naming %d sockets for LISTEN_FDS=%d; name each one http, raft or debug (FileDescriptorName= in the .socket unit)", names, len(list), n)
	}
	out := map[string]net.Listener{}
	fail := func(err error) (map[string]net.Listener, error) {
		for _, ln := range out {
			ln.Close()
		}
		return nil, err
	}
	for i, name := range list {
		if !slices.Contains(socketNames, name) {
			return fail(fmt.Errorf("LISTEN_FDNAMES names socket %d %q; serve takes http, raft and debug", i+1, name))
		}
		if out[name] != nil {
			return fail(fmt.Errorf("LISTEN_FDNAMES names %q twice; give each socket once", name))
		}
		f := os.NewFile(uintptr(3+i), name)
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return fail(fmt.Errorf("socket %q passed by the service manager (fd %d) is not a listening TCP socket: %w", name, 3+i, err))
		}
		out[name] = ln
	}
	return out, nil
}
