package main

import (
	"net"
	"os"
	"strings"
	"testing"
)

func TestPublicURL(t *testing.T) {
	host, _ := os.Hostname()
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for _, tc := range []struct {
		name, given, scheme, addr, want, err string
	}{
		{"given", "https://push.example.com/rt/", "http", "127.0.0.1:8080", "https://push.example.com/rt", ""},
		{"loopback", "", "http", "127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"tls", "", "https", "10.0.0.1:443", "https://10.0.0.1:443", ""},
		{"unspecified v4", "", "http", "0.0.0.0:8080", "http://" + net.JoinHostPort(host, "8080"), ""},
		{"unspecified v6", "", "https", "[::]:8443", "https://" + net.JoinHostPort(host, "8443"), ""},
		{"ws scheme", "ws://push.example.com", "http", "127.0.0.1:8080", "", "must be http:// or https://"},
		{"query", "https://push.example.com/?a=1", "http", "127.0.0.1:8080", "", "no query"},
		{"no host", "https:///x", "http", "127.0.0.1:8080", "", "with a host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := publicURL(tc.given, tc.scheme, tcp(tc.addr))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
