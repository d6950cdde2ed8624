//go:build integration

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_ClusterNeedsSharedSecret: a node told to meet others with no
// cluster secret refuses to start and says why in a sentence; it generates
// and saves no secret of its own (the cluster tests start nodes that have
// one).
func TestServe_ClusterNeedsSharedSecret(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bootstrap peers", []string{"--bootstrap-peers", "n1=127.0.0.1:1,n2=127.0.0.1:2,n3=127.0.0.1:3"}, "--bootstrap-peers lists other nodes (n2, n3) but no --cluster-secret is given"},
		{"join", []string{"--join", "http://127.0.0.1:1"}, "--join asks to join a cluster but no --cluster-secret is given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"serve", "--node-id", "n1", "--data-dir", dir,
				"--http-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0"}, tc.args...)
			out, err := exec.Command(binPath, args...).CombinedOutput()
			if err == nil {
				t.Fatalf("started without a cluster secret:\n%s", out)
			}
			if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "Give every node the same --cluster-secret") {
				t.Fatalf("the refusal does not say why:\n%s", out)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "secrets.json")); err == nil && strings.Contains(string(b), `"clusterSecret": "`) && !strings.Contains(string(b), `"clusterSecret": ""`) {
				t.Fatalf("a cluster secret was generated and saved anyway:\n%s", b)
			}
		})
	}
}
