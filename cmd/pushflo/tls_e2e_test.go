//go:build integration

package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/internal/testcert"
)

// tlsNode is one node serving clients over TLS with a certificate of ca.
type tlsNode struct {
	*proc
	ca        *testcert.CA
	leaf      *testcert.Leaf
	certDir   string
	url       string
	tlsConfig *tls.Config
}

func startTLSNode(t *testing.T, extra ...string) *tlsNode {
	t.Helper()
	ca := testcert.NewCA(t)
	leaf := ca.Issue(t, 1, "127.0.0.1", "localhost")
	certDir := t.TempDir()
	certFile, keyFile := leaf.Write(t, certDir)
	p := newProc(t, "n1", t.TempDir(), append([]string{"--tls-cert", certFile, "--tls-key", keyFile}, extra...)...)
	n := &tlsNode{proc: p, ca: ca, leaf: leaf, certDir: certDir, url: "https://" + p.httpAddr,
		tlsConfig: &tls.Config{RootCAs: ca.Pool()}}
	p.start()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: n.tlsConfig}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get(n.url + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready over https within 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// servedSerial does a TLS handshake and returns the serial of the
// certificate the server presented, verified against the test CA.
func (n *tlsNode) servedSerial(t *testing.T) string {
	t.Helper()
	conn, err := tls.Dial("tcp", n.httpAddr, &tls.Config{RootCAs: n.ca.Pool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("tls handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestTLS_GoClient: the Go client publishes over https and receives over
// wss:// and over SSE on https, trusting only the test CA; plain http on the
// same port is refused.
func TestTLS_GoClient(t *testing.T) {
	n := startTLSNode(t)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: n.tlsConfig}}
	c, err := client.New(client.Config{Addrs: []string{n.url}, SecretKey: secKey, PublishKey: pubKey, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tr := range []client.Transport{client.WebSocket, client.SSE} {
		channel := "tls:" + tr.String()
		sub, err := c.Subscribe(ctx, channel, client.SubscribeOptions{Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.WaitConnected(ctx); err != nil {
			t.Fatalf("%s: %v", tr, err)
		}
		if _, err := c.Publish(ctx, channel, map[string]string{"over": tr.String()}); err != nil {
			t.Fatalf("publish over https: %v", err)
		}
		ev, err := sub.Next(ctx)
		if err != nil || ev.Kind != client.EventMessage {
			t.Fatalf("%s: event %v, err %v", tr, ev, err)
		}
		t.Logf("ok go-client %s over %s: %s", tr, n.url, ev.Message.Content)
		sub.Close()
	}
	conn, err := tls.Dial("tcp", n.httpAddr, &tls.Config{RootCAs: n.ca.Pool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	st := conn.ConnectionState()
	t.Logf("handshake: %s, cipher %s, ALPN %q, certificate %q issued by %q",
		tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol,
		st.PeerCertificates[0].Subject.CommonName, st.PeerCertificates[0].Issuer.CommonName)
	conn.Close()

	// A client that does not trust the CA is refused by its own TLS stack;
	// plain http to the TLS port gets no HTTP answer.
	if _, err := http.Get(n.url + "/health"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusting client: err %v, want a certificate error", err)
	}
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + n.httpAddr + "/health"); err == nil && resp.StatusCode == 200 {
		t.Errorf("plain http on the TLS port answered 200")
	}
}

// TestTLS_CertReload: a certificate replaced on disk is served to the next
// handshakes without a restart, and SIGHUP rereads the files (and does not
// stop the node).
func TestTLS_CertReload(t *testing.T) {
	n := startTLSNode(t)
	if got := n.servedSerial(t); got != "1" {
		t.Fatalf("serving serial %s, want 1", got)
	}
	n.ca.Issue(t, 2, "127.0.0.1").Write(t, n.certDir)
	deadline := time.Now().Add(20 * time.Second)
	for n.servedSerial(t) != "2" {
		if time.Now().After(deadline) {
			t.Fatal("the replaced certificate was not served within 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := n.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for !strings.Contains(n.logText(), "certificate reloaded") || strings.Count(n.logText(), "certificate reloaded") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no second \"certificate reloaded\" after SIGHUP")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := n.servedSerial(t); got != "2" {
		t.Fatalf("after SIGHUP serving serial %s", got)
	}
}

// TestTLS_NodeSDKAndChromium: the TypeScript SDK in Node (trusting the CA
// through NODE_EXTRA_CA_CERTS) and a page in headless Chromium (trusting it
// through --ignore-certificate-errors-spki-list) connect over https:// and
// wss://. Needs node with sdk/js built (make test-sdk runs it after the
// build) and Chromium for the browser half.
func TestTLS_NodeSDKAndChromium(t *testing.T) {
	sdkDir, _ := filepath.Abs(filepath.Join("..", "..", "sdk", "js"))
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node on PATH: the Node SDK TLS check is skipped")
	}
	for _, need := range []string{"dist/esm/index.js", "test/node_modules/ws", "test/node_modules/playwright-core"} {
		if _, err := os.Stat(filepath.Join(sdkDir, need)); err != nil {
			t.Skipf("sdk/js/%s is missing (run make test-sdk, which builds the SDK and then runs this test): the Node and Chromium TLS checks are skipped", need)
		}
	}
	chromium := os.Getenv("CHROMIUM_PATH")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("PUSHFLO_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("no Chromium at %s", chromium)
		}
		t.Logf("no Chromium at %s: only the Node half runs", chromium)
		chromium = ""
	}
	n := startTLSNode(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, n.ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	script, _ := filepath.Abs(filepath.Join("testdata", "tls_clients.mjs"))
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+caFile,
		"PUSHFLO_URL="+n.url, "PUSHFLO_PUB="+pubKey, "PUSHFLO_SEC="+secKey,
		"SDK_DIR="+sdkDir, "CHROMIUM="+chromium,
		"SPKI="+n.ca.SPKIHash()+","+n.leaf.SPKIHash)
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", script, out)
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	want := []string{"ok node-sdk"}
	if chromium != "" {
		want = append(want, "ok chromium")
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("no %q in the script's output", w)
		}
	}
}
