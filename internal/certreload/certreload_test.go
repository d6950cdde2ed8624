package certreload

import (
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testcert"
	"github.com/pushflo/pushflo/internal/testlog"
)

func serial(t *testing.T, r *Reloader) string {
	t.Helper()
	c, err := r.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber.String()
}

// waitSerial polls GetCertificate, as handshakes would, until it serves want.
func waitSerial(t *testing.T, r *Reloader, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * CheckInterval)
	for serial(t, r) != want {
		if time.Now().After(deadline) {
			t.Fatalf("still serving serial %s, want %s", serial(t, r), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReloader_FollowsReplacedFiles(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.Issue(t, 1, "127.0.0.1").Write(t, dir)
	r, err := New(certFile, keyFile, testlog.New(t, slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	if got := serial(t, r); got != "1" {
		t.Fatalf("serial %s", got)
	}
	ca.Issue(t, 2, "127.0.0.1").Write(t, dir)
	waitSerial(t, r, "2")
}

// TestReloader_HalfReplacedKeepsOld: a new certificate beside the old key
// (certbot mid-renewal) is not loaded; the old pair stays until the key
// arrives too.
func TestReloader_HalfReplacedKeepsOld(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.Issue(t, 1, "127.0.0.1").Write(t, dir)
	r, err := New(certFile, keyFile, testlog.New(t, slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	next := ca.Issue(t, 2, "127.0.0.1")
	if err := os.WriteFile(certFile, next.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err == nil {
		t.Fatal("Reload loaded a certificate with someone else's key")
	}
	if got := serial(t, r); got != "1" {
		t.Fatalf("serving serial %s after a failed reload, want the old 1", got)
	}
	if err := os.WriteFile(keyFile, next.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	waitSerial(t, r, "2")
}

// TestReloader_Reload rereads at once, even when the files look unchanged
// (same size and modification time), which is what SIGHUP is for.
func TestReloader_Reload(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.Issue(t, 1, "127.0.0.1").Write(t, dir)
	r, err := New(certFile, keyFile, testlog.New(t, slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := os.Stat(certFile)
	ki, _ := os.Stat(keyFile)
	ca.Issue(t, 2, "127.0.0.1").Write(t, dir)
	os.Chtimes(certFile, ci.ModTime(), ci.ModTime())
	os.Chtimes(keyFile, ki.ModTime(), ki.ModTime())
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := serial(t, r); got != "2" {
		t.Fatalf("serial %s after Reload", got)
	}
}

func TestNew_Errors(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(filepath.Join(dir, "missing.pem"), filepath.Join(dir, "key.pem"), nil); err == nil {
		t.Fatal("New with a missing file succeeded")
	}
}
