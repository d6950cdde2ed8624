//go:build integration

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestServe_MetricsAddrAndKey: --metrics-addr serves /metrics with no key
// on its own listener; /metrics on the API address then needs the metrics,
// secret or management key. (67f2b71 served /metrics to anyone.)
func TestServe_MetricsAddrAndKey(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := l.Addr().String()
	l.Close()
	p := startProc(t, "n1", t.TempDir(), "--metrics-addr", maddr, "--metrics-key", "metrics_e2escrape")
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "pushflo_frontend_publishes_total") {
		t.Fatalf("--metrics-addr /metrics: %d, pushflo series present: %v", resp.StatusCode, strings.Contains(string(b), "pushflo_"))
	}
	for _, tc := range []struct {
		key    string
		status int
	}{{"", 401}, {pubKey, 401}, {"metrics_e2escrape", 200}, {secKey, 200}, {mgmtKey, 200}} {
		st, body, err := call("GET", "http://"+p.httpAddr+"/metrics", tc.key, "")
		if err != nil {
			t.Fatal(err)
		}
		if st != tc.status {
			t.Errorf("API address /metrics with %s: %d, want %d: %.200s", fmt.Sprintf("%.5q", tc.key), st, tc.status, body)
		}
	}
}
