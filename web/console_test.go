package web

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		name, path, redirect, ctype string
		ok                          bool
	}{
		{"root redirects", "/", "/console/", "", true},
		{"console redirects", "/console", "/console/", "", true},
		{"index", "/console/", "", "text/html; charset=utf-8", true},
		{"module", "/console/app.js", "", SDKContentType, true},
		{"style", "/console/style.css", "", "text/css; charset=utf-8", true},
		{"sdk", SDKPath, "", SDKContentType, true},
		{"missing", "/console/nope.js", "", "", false},
		{"traversal", "/console/../doc.go", "", "", false},
		{"dot segment", "/console/./app.js", "", "", false},
		{"outside", "/api/v1/x", "", "", false},
		{"prefix only", "/consoleX", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, redirect, ok := Lookup(tc.path)
			if ok != tc.ok || redirect != tc.redirect || a.ContentType != tc.ctype {
				t.Fatalf("Lookup(%q) = %q, %q, %v; want %q, %q, %v", tc.path, a.ContentType, redirect, ok, tc.ctype, tc.redirect, tc.ok)
			}
			if ok && redirect == "" && len(a.Body) == 0 {
				t.Fatalf("Lookup(%q) has no body", tc.path)
			}
		})
	}
}

// TestConsole_NoNetworkReferences: the console loads nothing from outside
// the server (no fonts, scripts or styles from a CDN).
func TestConsole_NoNetworkReferences(t *testing.T) {
	entries, err := console.ReadDir("console")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := console.ReadFile("console/" + e.Name())
		for _, bad := range []string{"http://", "https://", "//fonts.", "@import url("} {
			if strings.Contains(string(b), bad) {
				t.Errorf("console/%s refers to %q: the console must work with only the binary", e.Name(), bad)
			}
		}
	}
}
