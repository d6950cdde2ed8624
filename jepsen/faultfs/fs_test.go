//go:build linux

package faultfs_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pushflo/pushflo/jepsen/faultfs/faultfstest"
)

// createT opens dir/name for reading and writing, creating it, until the
// test ends, and returns the file and its path.
func createT(t *testing.T, dir, name string) (*os.File, string) {
	t.Helper()
	p := filepath.Join(dir, name)
	file, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	return file, p
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFS_PowerCutLosesWhatWasNotSynced(t *testing.T) {
	f, mnt := faultfstest.Mount(t, "faultfs-test")
	file, p := createT(t, mnt, "wal")
	mustWrite := func(b []byte, off int64) {
		t.Helper()
		if _, err := file.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite([]byte("aaaabbbb"), 0)
	if err := file.Sync(); err != nil {
		t.Fatal(err)
	}
	mustWrite([]byte("XX"), 2)               // overwrite inside the durable part
	mustWrite([]byte("cccc"), 8)             // append
	if err := file.Truncate(6); err != nil { // and cut back
		t.Fatal(err)
	}
	if got := readFile(t, p); string(got) != "aaXXbb" {
		t.Fatalf("before the cut the file reads %q, want %q", got, "aaXXbb")
	}
	file.Close()
	// A file created and never synced survives empty.
	if err := os.WriteFile(filepath.Join(mnt, "fresh"), []byte("never synced"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := f.Pending(); n == 0 {
		t.Fatal("nothing pending before the cut")
	}
	lost, err := f.PowerCut()
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); string(got) != "aaaabbbb" {
		t.Errorf("after the cut the file reads %q, want the synced %q", got, "aaaabbbb")
	}
	if got := readFile(t, filepath.Join(mnt, "fresh")); len(got) != 0 {
		t.Errorf("unsynced new file reads %q after the cut, want empty", got)
	}
	if lost == 0 || f.Pending() != 0 {
		t.Errorf("lost %d bytes, %d still pending", lost, f.Pending())
	}
}

func TestFS_FailedFsyncLosesDataEvenAfterALaterSync(t *testing.T) {
	f, mnt := faultfstest.Mount(t, "faultfs-test")
	file, p := createT(t, mnt, "db")
	if _, err := file.WriteAt(bytes.Repeat([]byte("0"), 12), 0); err != nil {
		t.Fatal(err)
	}
	if err := file.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := file.WriteAt([]byte("AAAA"), 0); err != nil {
		t.Fatal(err)
	}
	f.SetFailSync(true)
	if err := file.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync with failures on = %v, want EIO", err)
	}
	f.SetFailSync(false)
	if _, err := file.WriteAt([]byte("BBBB"), 8); err != nil {
		t.Fatal(err)
	}
	if err := file.Sync(); err != nil { // "succeeds": fsyncgate
		t.Fatal(err)
	}
	f.SetFailWrite(true)
	if _, err := file.WriteAt([]byte("C"), 4); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write with ENOSPC on = %v, want ENOSPC", err)
	}
	f.SetFailWrite(false)
	file.Close()
	if _, err := f.PowerCut(); err != nil {
		t.Fatal(err)
	}
	if got, want := string(readFile(t, p)), "00000000BBBB"; got != want {
		t.Errorf("after the cut the file reads %q, want %q: the write before the failed fsync is lost, the one after the good fsync kept", got, want)
	}
	st := f.Stats()
	if st.FailedSyncs != 1 || st.FailedWrites != 1 || st.PowerCuts != 1 {
		t.Errorf("stats = %+v", st)
	}
}
