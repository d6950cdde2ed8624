//go:build linux

// Package faultfstest mounts a faultfs for a test: the faultfs package's
// own tests and those of code that must survive a power cut (such as
// cmd/pushflo's key file) use it.
package faultfstest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pushflo/pushflo/jepsen/faultfs"
)

// Mount mounts a faultfs named name (its source in /proc/mounts) on a
// fresh directory, backed by another, both under t.TempDir(), and
// returns it with its mountpoint; it is unmounted when the test ends.
// It skips the test where faultfs cannot be mounted (faultfs.Supported).
func Mount(t *testing.T, name string) (*faultfs.FS, string) {
	t.Helper()
	if err := faultfs.Supported(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	for _, d := range []string{backing, mnt} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f, err := faultfs.Mount(backing, mnt, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return f, mnt
}
