package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files (deploy/pushflo.example.toml)")

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pushflo.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseFlags_Precedence(t *testing.T) {
	file := writeFile(t, `
http-addr = "file:1"
data-dir = "file-dir"
node-id = "file-node"
retention = "1h"
bootstrap-peers = ["n1=a:1", "n2=b:2"]
max-batch = 64
nonvoter = true
`)
	t.Setenv("PUSHFLO_DATA_DIR", "env-dir")
	t.Setenv("PUSHFLO_NODE_ID", "env-node")
	fs, f := newServeFlags()
	if err := parseFlags(fs, []string{"--config", file, "--node-id", "flag-node"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"flag beats env and file", f.nodeID, "flag-node"},
		{"env beats file", f.dataDir, "env-dir"},
		{"file beats default", f.httpAddr, "file:1"},
		{"duration from file", f.retention.String(), "1h0m0s"},
		{"array joined", f.bootstrapPeers, "n1=a:1,n2=b:2"},
		{"int from file", fs.Lookup("max-batch").Value.String(), "64"},
		{"bool from file", fs.Lookup("nonvoter").Value.String(), "true"},
		{"default kept", f.raft.RaftAddr, "127.0.0.1:7000"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if f.raft.MaxBatch != 64 {
		t.Errorf("max-batch bound to raftnode.Config.MaxBatch: got %d", f.raft.MaxBatch)
	}
}

func TestParseFlags_ConfigFromEnv(t *testing.T) {
	t.Setenv("PUSHFLO_CONFIG", writeFile(t, `http-addr = "file:2"`))
	fs, f := newServeFlags()
	if err := parseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}
	if f.httpAddr != "file:2" {
		t.Fatalf("http-addr %q: PUSHFLO_CONFIG was not read", f.httpAddr)
	}
}

func TestConfigFile_Errors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown key", `htp-addr = "x"`, []string{`unknown key "htp-addr"`}},
		{"every problem at once", "htp-addr = \"x\"\nmax-batch = \"many\"\n", []string{`unknown key "htp-addr"`, `key "max-batch"`}},
		{"config is not a key", `config = "other.toml"`, []string{`unknown key "config"`}},
		{"table", "[raft]\nmax-batch = 1\n", []string{`key "raft"`, "table"}},
		{"bad duration", `retention = 24`, []string{`key "retention" = "24"`}},
		{"syntax", `http-addr = `, []string{"pushflo.toml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := newServeFlags()
			err := parseFlags(fs, []string{"--config", writeFile(t, tc.body)})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	var ke *ConfigKeyError
	fs, _ := newServeFlags()
	if err := parseFlags(fs, []string{"--config", writeFile(t, `nope = 1`)}); !errors.As(err, &ke) || ke.Key != "nope" {
		t.Fatalf("error %v is not a ConfigKeyError naming the key", err)
	}
}

func TestIsSecretFlag(t *testing.T) {
	for name, want := range map[string]bool{
		"publish-key": true, "secret-key": true, "mgmt-key": true, "cluster-secret": true,
		"tls-key": false, "tls-cert": false, "raft-tls-key": false, "http-addr": false, "keys-file": false,
		"max-batch": false, "token-ttl": true, "rate-limit-key": false, "rate-limit-key-burst": false,
	} {
		if got := isSecretFlag(name); got != want {
			t.Errorf("isSecretFlag(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestWriteConfig_RoundTrip: what --print-config prints loads back as the
// same configuration, with the secrets redacted.
func TestWriteConfig_RoundTrip(t *testing.T) {
	fs, _ := newServeFlags()
	if err := parseFlags(fs, []string{"--mgmt-key", "mgmt_verysecretvalue1", "--retention", "90m", "--bootstrap-peers", `n1=a:1,n2="b":2`, "--max-batch", "7"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeConfig(&buf, fs, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "verysecretvalue") || !strings.Contains(out, `mgmt-key = "(redacted)"`) {
		t.Fatalf("the mgmt key is not redacted:\n%s", out)
	}
	fs2, f2 := newServeFlags()
	if err := parseFlags(fs2, []string{"--config", writeFile(t, out)}); err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, out)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag || isSecretFlag(f.Name) && f.Value.String() != "" {
			return
		}
		if got := fs2.Lookup(f.Name).Value.String(); got != f.Value.String() {
			t.Errorf("%s: printed %q, loaded back %q", f.Name, f.Value.String(), got)
		}
	})
	if f2.retention != 90*time.Minute {
		t.Errorf("retention %v", f2.retention)
	}
}

// TestExampleConfig: the example file in deploy/ lists every serve flag,
// each key parses when uncommented, and the file is what the flags generate.
func TestExampleConfig(t *testing.T) {
	path := filepath.Join("..", "..", exampleConfigPath)
	var want bytes.Buffer
	if err := writeExampleConfig(&want); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := newServeFlags()
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag || f.Name == printConfigFlag {
			return
		}
		if !regexp.MustCompile(`(?m)^# ` + regexp.QuoteMeta(f.Name) + ` = `).Match(got) {
			t.Errorf("%s has no key %q", exampleConfigPath, f.Name)
		}
	})
	uncommented := regexp.MustCompile(`(?m)^# ([a-z0-9-]+ = )`).ReplaceAll(got, []byte("$1"))
	fs2, _ := newServeFlags()
	if err := parseFlags(fs2, []string{"--config", writeFile(t, string(uncommented))}); err != nil {
		t.Errorf("%s with its keys uncommented does not load: %v", exampleConfigPath, err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("%s is out of date with serve's flags: run go test ./cmd/pushflo -run TestExampleConfig -update", exampleConfigPath)
	}
}
