package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runHealthcheck: `pushflo healthcheck` GETs a node's /ready and exits 0 when
// it answers 200, 1 otherwise. It is the container image's HEALTHCHECK (a
// scratch image has no curl).
func runHealthcheck(args []string) error {
	fs := newFlagSet("healthcheck")
	url := fs.String("url", "http://127.0.0.1:8080/ready", "URL to GET; healthy when it answers 200")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	insecure := fs.Bool("insecure", false, "accept any TLS certificate (for checking a node on its own loopback, where the certificate names another host)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("healthcheck takes no arguments, got %q", fs.Args())}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if *insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	resp, err := (&http.Client{Transport: tr, Timeout: *timeout}).Get(*url)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", *url, resp.Status, body)
	}
	fmt.Printf("healthy: %s %s\n", *url, resp.Status)
	return nil
}
