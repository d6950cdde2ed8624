//go:build integration

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMetrics_DocumentedAndOnDashboard: every pushflo_* series a node
// exports is explained in docs/operations.md, and every series the Grafana
// dashboard (deploy/grafana-dashboard.json) queries exists.
func TestMetrics_DocumentedAndOnDashboard(t *testing.T) {
	p := startProc(t, "n1", t.TempDir())
	base := "http://" + p.httpAddr
	publish(base, "metrics:a", `{"n":1}`)
	// Labelled series appear once they have a child: an error answer, and
	// a subscriber connection held open while /metrics is read.
	call("GET", base+"/api/v1/channels/metrics:a/messages", "sec_notthekeynotthekey", "")
	sse, err := http.Get(base + "/sse?channel=metrics:a&token=" + pubKey)
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (pushflo_[a-z_]+) `).FindAllStringSubmatch(string(body), -1) {
		exported[m[1]] = true
	}
	if len(exported) < 5 {
		t.Fatalf("only %d pushflo series in /metrics:\n%s", len(exported), body)
	}

	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range exported {
		if !strings.Contains(string(doc), "`"+name) {
			t.Errorf("docs/operations.md does not explain %s", name)
		}
	}

	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	suffix := regexp.MustCompile(`_(bucket|sum|count)$`)
	queried := 0
	for _, panel := range dash.Panels {
		for _, tg := range panel.Targets {
			for _, name := range regexp.MustCompile(`pushflo_[a-z_]+`).FindAllString(tg.Expr, -1) {
				queried++
				if base := suffix.ReplaceAllString(name, ""); !exported[base] && !exported[name] {
					t.Errorf("panel %q queries %s, which no node exports", panel.Title, name)
				}
			}
		}
	}
	if queried < 10 {
		t.Errorf("the dashboard queries only %d pushflo series", queried)
	}
}
