// Package certreload serves a TLS certificate from a pair of PEM files and
// picks up new files without a restart.
//
// A Reloader reads the certificate and key when it is made, hands them to
// every TLS handshake through GetCertificate, and rereads them when either
// file has changed (checked at most once per CheckInterval, on a handshake)
// or when Reload is called (serve calls it on SIGHUP). Files being replaced
// one after the other, as certbot does, may be caught half-way: a pair that
// does not load is logged and the previous certificate keeps being served
// until a pair loads.
package certreload

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CheckInterval is how often, at most, a handshake looks at the files.
const CheckInterval = time.Second

// Reloader hands out the certificate in CertFile and KeyFile. Its methods
// may be called from any goroutine.
type Reloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	// mu guards the fields below.
	mu        sync.Mutex
	cert      *tls.Certificate
	loaded    stamp     // the files' stamp when cert was read
	checked   time.Time // when the files were last looked at
	lastError string    // the last load error logged, to log each once
}

// stamp identifies a version of the two files.
type stamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func stampOf(certFile, keyFile string) (stamp, error) {
	c, err := os.Stat(certFile)
	if err != nil {
		return stamp{}, err
	}
	k, err := os.Stat(keyFile)
	if err != nil {
		return stamp{}, err
	}
	return stamp{c.ModTime(), k.ModTime(), c.Size(), k.Size()}, nil
}

// New reads the certificate chain in certFile and its key in keyFile, and
// fails if they do not load as a pair.
func New(certFile, keyFile string, logger *slog.Logger) (*Reloader, error) {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, logger: logger.With("component", "tls")}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload rereads the files now. On failure the previous certificate stays
// in use and the error says which file did not load.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked()
}

// reloadLocked reads the pair. REQUIRES r.mu.
func (r *Reloader) reloadLocked() error {
	r.checked = time.Now()
	st, err := stampOf(r.certFile, r.keyFile)
	if err == nil {
		var cert tls.Certificate
		cert, err = tls.LoadX509KeyPair(r.certFile, r.keyFile)
		if err == nil {
			replaced := r.cert != nil
			r.cert, r.loaded, r.lastError = &cert, st, ""
			if replaced {
				r.logger.Info("certificate reloaded", "cert", r.certFile, "not_after", cert.Leaf.NotAfter)
			}
			return nil
		}
	}
	err = fmt.Errorf("load tls certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	if r.cert != nil && err.Error() != r.lastError {
		r.logger.Warn("certificate not reloaded; the previous one stays in use", "err", err)
	}
	r.lastError = err.Error()
	return err
}

// GetCertificate is tls.Config.GetCertificate: it returns the current
// certificate, first rereading the files if they changed.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) >= CheckInterval {
		r.checked = time.Now()
		if st, err := stampOf(r.certFile, r.keyFile); err == nil && st != r.loaded {
			r.reloadLocked()
		}
	}
	return r.cert, nil
}

// TLSConfig is a server configuration that serves r's certificate over
// HTTP/1.1 (which WebSocket upgrades need) with TLS 1.2 or later.
func (r *Reloader) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: r.GetCertificate,
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
	}
}
