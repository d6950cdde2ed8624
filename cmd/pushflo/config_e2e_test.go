//go:build integration

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_ConfigFile: the binary reads --config, lets PUSHFLO_* and flags
// override it, prints the effective configuration with secrets redacted,
// refuses an unknown key by name, and serves on the address the file gives.
func TestServe_ConfigFile(t *testing.T) {
	dir := t.TempDir()
	// The file names the reserved ports the harness hands over.
	p := newProc(t, "from-file", filepath.Join(dir, "data"))
	httpAddr := p.httpAddr
	file := filepath.Join(dir, "pushflo.toml")
	os.WriteFile(file, []byte(fmt.Sprintf(`
http-addr = %q
raft-addr = %q
data-dir = %q
node-id = "from-file"
mgmt-key = "mgmt_fromthefile0123456789"
publish-key = %q
secret-key = %q
retention = "36h"
`, httpAddr, p.raftAddr, filepath.Join(dir, "data"), pubKey, secKey)), 0o600)

	cmd := exec.Command(binPath, "serve", "--config", file, "--print-config", "--max-batch", "33")
	cmd.Env = append(os.Environ(), "PUSHFLO_NODE_ID=from-env")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("print-config: %v", err)
	}
	for _, want := range []string{`node-id = "from-env"`, `max-batch = 33`, `retention = "36h0m0s"`, `http-addr = "` + httpAddr + `"`, `mgmt-key = "(redacted)"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--print-config output lacks %s", want)
		}
	}
	if strings.Contains(string(out), "fromthefile") || strings.Contains(string(out), secKey) {
		t.Errorf("--print-config shows a secret:\n%s", out)
	}

	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("http-adr = \"x\"\n"), 0o600)
	cmd = exec.Command(binPath, "serve", "--config", bad)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), `unknown key "http-adr"`) {
		t.Fatalf("unknown key: err %v, stderr %q", err, stderr.String())
	}
	t.Logf("an unknown key, as a user sees it: %s", strings.TrimSpace(stderr.String()))

	p.args = []string{"serve", "--config", file}
	p.start()
	p.waitReady()
	if code, _, err := publish("http://"+httpAddr, "cfg:a", `{"n":1}`); err != nil || code != 201 {
		t.Fatalf("publish with keys from the file: %d %v", code, err)
	}
	p.stop()
}

// TestServe_JSONLogs: with --log-format json every line the node writes is
// one JSON object with no key twice, and no line carries a key, a token or
// the cluster secret, even at debug level with requests authenticated by
// header and by query string.
func TestServe_JSONLogs(t *testing.T) {
	p := startProc(t, "n1", t.TempDir(), "--log-format", "json", "--log-level", "debug")
	base := "http://" + p.httpAddr
	if code, _, err := publish(base, "logs:a", `{"n":1}`); err != nil || code != 201 {
		t.Fatalf("publish: %d %v", code, err)
	}
	call("GET", base+"/api/v1/channels/logs:a/messages", secKey, "")
	call("GET", base+"/api/v1/cluster", mgmtKey, "")
	call("GET", base+"/api/v1/channels/logs:a/messages", "sec_wrongkeywrongkey1", "")
	if resp, err := http.Get(base + "/sse?channel=logs:a&token=" + pubKey + "&lastEventId=0"); err == nil {
		resp.Body.Close()
	}
	if resp, err := http.Get(base + "/ws?token=" + pubKey); err == nil {
		resp.Body.Close()
	}
	p.stop()

	logs := p.logText()
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		lines++
		if dup, err := duplicateKey([]byte(line)); err != nil {
			t.Errorf("not one JSON object: %v: %s", err, line)
		} else if dup != "" {
			t.Errorf("key %q twice: %s", dup, line)
		}
		for _, secret := range []string{pubKey, secKey, mgmtKey, "e2e-cluster-secret", "wrongkeywrongkey"} {
			if strings.Contains(line, secret) {
				t.Errorf("a log line carries %s: %s", secret[:4], line)
			}
		}
	}
	if lines < 5 {
		t.Fatalf("only %d log lines:\n%s", lines, logs)
	}
	if n := strings.Count(logs, `"msg":"request"`); n < 5 {
		t.Fatalf("%d request lines at debug level, want one per request:\n%s", n, logs)
	}
	t.Logf("%d JSON lines, e.g.\n%s", lines, strings.Join(strings.SplitN(logs, "\n", 4)[:3], "\n"))
}

// duplicateKey returns a key that appears twice in one JSON object of b (at
// any depth), or an error if b is not exactly one JSON object.
func duplicateKey(b []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func() (string, error)
	walk = func() (string, error) {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return "", err
				}
				key := k.(string)
				if seen[key] {
					return key, nil
				}
				seen[key] = true
				if dup, err := walk(); dup != "" || err != nil {
					return dup, err
				}
			}
			_, err = dec.Token()
			return "", err
		case json.Delim('['):
			for dec.More() {
				if dup, err := walk(); dup != "" || err != nil {
					return dup, err
				}
			}
			_, err = dec.Token()
			return "", err
		}
		return "", nil
	}
	dup, err := walk()
	if err == nil && dup == "" {
		if _, err := dec.Token(); err != io.EOF {
			return "", fmt.Errorf("more after the object")
		}
	}
	return dup, err
}

// TestHealth_ReportsVersion: GET /health reports the version and commit
// that `pushflo version` prints.
func TestHealth_ReportsVersion(t *testing.T) {
	out, err := exec.Command(binPath, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v, c string
	if _, err := fmt.Sscanf(string(out), "pushflo %s commit %s", &v, &c); err != nil {
		t.Fatalf("version output %q: %v", out, err)
	}
	p := startProc(t, "n1", t.TempDir())
	resp, err := http.Get("http://" + p.httpAddr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Status, Version, Commit string }
	json.NewDecoder(resp.Body).Decode(&h)
	if h.Status != "ok" || h.Version != v || h.Commit != c {
		t.Fatalf("/health = %+v, pushflo version says %s %s", h, v, c)
	}
	t.Logf("/health: %+v", h)
}
