package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersion_Stamped: `pushflo version` prints what the linker stamped, the
// Makefile's way. (Builds with VCS stamping fall back to the recorded
// revision; this environment sets GOFLAGS=-buildvcs=false, hence the
// Makefile's -ldflags.)
func TestVersion_Stamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	run := func(name string, buildArgs ...string) string {
		t.Helper()
		bin := filepath.Join(dir, name)
		if out, err := exec.Command("go", append(append([]string{"build", "-o", bin}, buildArgs...), ".")...).CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run("stamped", "-ldflags", "-X main.version=v1.2.3 -X main.commit=0123abc"); !strings.HasPrefix(got, "pushflo v1.2.3 commit 0123abc go") {
		t.Errorf("ldflags build prints %q", got)
	}
}
