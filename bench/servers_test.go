package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSocketActivation_ReadsEachBinaryOnce: a binary that names
// LISTEN_FDNAMES takes its sockets by activation, one that does not (a
// build older than socket activation, as baseline mode may start) binds
// its addresses itself; the answer is kept per path, so the tens of
// megabytes of a binary are read once per run, not at every server start.
func TestSocketActivation_ReadsEachBinaryOnce(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newer := write("new", "\x7fELF…os.Getenv(\"LISTEN_FDNAMES\")…")
	older := write("old", "\x7fELF…--http-addr…")
	if !socketActivation(newer) {
		t.Errorf("binary naming LISTEN_FDNAMES: socketActivation = false, want true")
	}
	if socketActivation(older) {
		t.Errorf("binary without LISTEN_FDNAMES: socketActivation = true, want false")
	}
	// Read once: what the file says later does not change the answer.
	write("old", "LISTEN_FDNAMES")
	if socketActivation(older) {
		t.Errorf("second call read the binary again (answer changed with its content)")
	}
}
