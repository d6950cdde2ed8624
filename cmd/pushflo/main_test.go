package main

import (
	"testing"
)

func TestParseFlags_Interspersed(t *testing.T) {
	fs := newFlagSet("publish")
	event := fs.String("event", "message", "")
	server := fs.String("server", "", "")
	t.Setenv("PUSHFLO_SERVER", "http://from-env")
	if err := parseFlags(fs, []string{"orders:1", "--event", "shipped", `{"a":1}`}); err != nil {
		t.Fatal(err)
	}
	if *event != "shipped" || *server != "http://from-env" || fs.NArg() != 2 || fs.Arg(0) != "orders:1" || fs.Arg(1) != `{"a":1}` {
		t.Fatalf("event %q server %q args %q", *event, *server, fs.Args())
	}
}
