package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSaveBackup_IncompleteStreamLeavesNothing: a stream that is not a
// whole backup is refused, the file already at -o keeps its content, and
// no temporary file is left beside it.
func TestSaveBackup_IncompleteStreamLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cluster.tar")
	if err := os.WriteFile(out, []byte("the previous backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := saveBackup(strings.NewReader("not a tar at all, cut short"), out)
	if err == nil || !strings.Contains(err.Error(), "the backup stream is not complete") {
		t.Fatalf("saveBackup of a broken stream: %v, want 'the backup stream is not complete'", err)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "the previous backup" {
		t.Fatalf("the file at -o after a failed backup: %q, %v; want the previous content", b, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("directory after a failed backup holds %v; want only cluster.tar", names)
	}
}
