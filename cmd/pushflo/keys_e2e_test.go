//go:build integration

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withoutKeyFlags is args without the harness's --publish-key,
// --secret-key and --mgmt-key, so the node uses its data dir's keys.
func withoutKeyFlags(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--publish-key", "--secret-key", "--mgmt-key":
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// TestServe_KeysShownOnlyWhenGenerated: the API keys are printed once, on
// the start that generates them; later starts, and starts with keys given,
// say where the keys are kept and print none of them.
func TestServe_KeysShownOnlyWhenGenerated(t *testing.T) {
	dir := t.TempDir()
	p := newProc(t, "n1", dir)
	p.args = withoutKeyFlags(p.args)
	p.start()
	p.waitReady()
	p.stop()
	b, err := os.ReadFile(filepath.Join(dir, "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var saved secrets
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	keys := []string{saved.Keys.Publish, saved.Keys.Secret, saved.Keys.Mgmt}
	first := p.logText()
	for _, k := range keys {
		if strings.Count(first, k) != 1 {
			t.Fatalf("the start that generated the keys shows %s… %d times, want once:\n%s", k[:4], strings.Count(first, k), first)
		}
	}

	p.start()
	p.waitReady()
	p.stop()
	second := strings.TrimPrefix(p.logText(), first)
	for _, k := range keys {
		if strings.Contains(second, k) {
			t.Errorf("a later start printed a key (%s…):\n%s", k[:4], second)
		}
	}
	if !strings.Contains(second, "API keys: kept in "+filepath.Join(dir, "secrets.json")) {
		t.Errorf("a later start does not say where the keys are kept:\n%s", second)
	}

	given := startProc(t, "n1", t.TempDir())
	out := given.logText()
	for _, k := range []string{pubKey, secKey, mgmtKey} {
		if strings.Contains(out, k) {
			t.Errorf("a start with keys given printed one (%s…):\n%s", k[:4], out)
		}
	}
	if !strings.Contains(out, "API keys: from the flags, environment or config file") {
		t.Errorf("a start with keys given does not say where they come from:\n%s", out)
	}
}
