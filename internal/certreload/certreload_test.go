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

// fixture is a Reloader following a certificate of serial 1 and its key,
// issued by ca and written to dir.
type fixture struct {
	ca                *testcert.CA
	dir               string
	certFile, keyFile string
	r                 *Reloader
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ca: testcert.NewCA(t), dir: t.TempDir()}
	f.certFile, f.keyFile = f.ca.Issue(t, 1, "127.0.0.1").Write(t, f.dir)
	r, err := New(f.certFile, f.keyFile, testlog.New(t, slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	f.r = r
	return f
}

func TestReloader_FollowsReplacedFiles(t *testing.T) {
	f := newFixture(t)
	if got := serial(t, f.r); got != "1" {
		t.Fatalf("serial %s", got)
	}
	f.ca.Issue(t, 2, "127.0.0.1").Write(t, f.dir)
	waitSerial(t, f.r, "2")
}

// TestReloader_HalfReplacedKeepsOld: a new certificate beside the old key
// (certbot mid-renewal) is not loaded; the old pair stays until the key
// arrives too.
func TestReloader_HalfReplacedKeepsOld(t *testing.T) {
	f := newFixture(t)
	next := f.ca.Issue(t, 2, "127.0.0.1")
	if err := os.WriteFile(f.certFile, next.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Reload(); err == nil {
		t.Fatal("Reload loaded a certificate with someone else's key")
	}
	if got := serial(t, f.r); got != "1" {
		t.Fatalf("serving serial %s after a failed reload, want the old 1", got)
	}
	if err := os.WriteFile(f.keyFile, next.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	waitSerial(t, f.r, "2")
}

// TestReloader_Reload rereads at once, even when the files look unchanged
// (same size and modification time), which is what SIGHUP is for.
func TestReloader_Reload(t *testing.T) {
	f := newFixture(t)
	ci, _ := os.Stat(f.certFile)
	ki, _ := os.Stat(f.keyFile)
	f.ca.Issue(t, 2, "127.0.0.1").Write(t, f.dir)
	os.Chtimes(f.certFile, ci.ModTime(), ci.ModTime())
	os.Chtimes(f.keyFile, ki.ModTime(), ki.ModTime())
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := serial(t, f.r); got != "2" {
		t.Fatalf("serial %s after Reload", got)
	}
}

func TestNew_Errors(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(filepath.Join(dir, "missing.pem"), filepath.Join(dir, "key.pem"), nil); err == nil {
		t.Fatal("New with a missing file succeeded")
	}
}
