package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pushflo/pushflo/stream"
)

// tokenEndpoint asks for a token with a forged Host and X-Forwarded-Proto
// and returns the answer's endpoint.
func tokenEndpoint(t *testing.T, ts *testServer) string {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.url+"/api/v1/auth/token", strings.NewReader(`{"publishKey":"`+testKeys.Publish+`"}`))
	req.Host = "evil.example:666"
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct{ Data struct{ Endpoint string } }
	if resp.StatusCode != 200 || json.Unmarshal(b, &r) != nil {
		t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	return r.Data.Endpoint
}

// TestToken_EndpointFromConfig: the token's endpoint comes from PublicURL
// (--public-url), or without it from the listener's address; the Host and
// X-Forwarded-* headers of the request never change it. (Before: a forged
// Host became the endpoint a browser was told to connect to.)
func TestToken_EndpointFromConfig(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *stream.Config) { c.PublicURL = "https://push.example.com/rt/" })
	if got, want := tokenEndpoint(t, ts), "wss://push.example.com/rt/ws"; got != want {
		t.Errorf("with PublicURL: endpoint %q, want %q", got, want)
	}
	plain := startServer(t, nil)
	if got, want := tokenEndpoint(t, plain), strings.Replace(plain.url, "http://", "ws://", 1)+"/ws"; got != want {
		t.Errorf("without PublicURL: endpoint %q, want %q (the listener's address)", got, want)
	}
}
