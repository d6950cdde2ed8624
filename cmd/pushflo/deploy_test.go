package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit_Verifies: deploy/systemd/pushflo.service and its socket
// units pass
// systemd-analyze verify without a warning (an unknown or misspelt
// directive is a warning), and keeps its hardening.
func TestSystemdUnit_Verifies(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("..", "..", "deploy", "systemd", "pushflo.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=pushflo", "StateDirectory=pushflo", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"Restart=on-failure", "LimitNOFILE=1048576", "ExecReload=/bin/kill -HUP $MAINPID", "--config /etc/pushflo/pushflo.toml"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze here: the unit is not verified")
	}
	// The binary's installed path need not exist here: point ExecStart at
	// an executable that does.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pushflo.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/pushflo", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The socket units are verified with the service they activate.
	units := []string{path}
	for _, kind := range []string{"http", "raft"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "systemd", "pushflo-"+kind+".socket"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "FileDescriptorName="+kind) || !strings.Contains(string(b), "Service=pushflo.service") {
			t.Errorf("pushflo-%s.socket does not name its socket %s for pushflo.service", kind, kind)
		}
		units = append(units, filepath.Join(filepath.Dir(path), "pushflo-"+kind+".socket"))
		if err := os.WriteFile(units[len(units)-1], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
