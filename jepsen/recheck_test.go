package jepsen

import (
	"os"
	"testing"
)

// TestJepsen_Recheck runs the checker again over the history file named by
// JEPSEN_HISTORY (as a failing run prints it) and prints the report; it
// skips when the variable is unset.
func TestJepsen_Recheck(t *testing.T) {
	path := os.Getenv("JEPSEN_HISTORY")
	if path == "" {
		t.Skip("set JEPSEN_HISTORY to a history.jsonl to check it again")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := ReadHistory(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := Check(h, CheckOptions{})
	t.Logf("seed %d, %s\n%s\n%s", h.Header.Seed, h.Header.Note, path, r)
	if !r.Valid {
		t.Fatalf("%s: checks failed (the run's seed was %d)", path, h.Header.Seed)
	}
}
