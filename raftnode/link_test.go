package raftnode

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/rpc"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testwait"
	"github.com/pushflo/pushflo/log"
)

// tamperRelay is a TCP relay on the path between a dialer and a node's
// Raft port. It passes bytes through unchanged until flip is set; then it
// flips one byte of the next chunk the dialer sends (inside the marker
// "TAMPER" when the chunk holds it in clear text, else in the middle) and
// carries on relaying.
type tamperRelay struct {
	ln      net.Listener
	target  string
	flip    atomic.Bool
	flipped atomic.Int64
}

func newTamperRelay(t *testing.T, target string) *tamperRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tamperRelay{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *tamperRelay) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(c, up)
		c.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if r.flip.CompareAndSwap(true, false) {
				i := bytes.Index(chunk, []byte("TAMPER"))
				if i < 0 {
					i = n / 2
				}
				chunk[i] ^= 0x01
				r.flipped.Add(1)
			}
			if _, err := up.Write(chunk); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestLink_FlippedByteKillsConnection: a relay on the path lets one honest
// handshake and one forwarded publish through, then flips one byte of the
// next publish. The connection must die and nothing from it may be
// committed. (Before the link was TLS, the flipped message was committed.)
func TestLink_FlippedByteKillsConnection(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), nil)
	testwait.For(t, "leadership", n1.IsLeader)
	relay := newTamperRelay(t, string(n1.trans.LocalAddr()))

	// The dialer holds the cluster secret: it is an honest follower whose
	// path goes through the relay.
	creds, err := n1.cfg.linkCreds()
	if err != nil {
		t.Fatal(err)
	}
	follower, err := newStreamLayer("127.0.0.1:0", "", creds, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follower.Close(); follower.wait() })
	conn, err := follower.dial(relay.ln.Addr().String(), 2*time.Second, connForward)
	if err != nil {
		t.Fatalf("honest handshake through the relay: %v", err)
	}
	client := rpc.NewClient(conn)
	defer client.Close()

	publish := func(content string) error {
		args := &PublishArgs{Entries: []log.Entry{{Channel: "t", EventType: "e", Content: []byte(content)}}}
		var reply PublishReply
		call := client.Go("Node.Publish", args, &reply, make(chan *rpc.Call, 1))
		select {
		case <-call.Done:
		case <-time.After(10 * time.Second):
			return errors.New("no answer within 10s")
		}
		if call.Error != nil {
			return call.Error
		}
		if r := reply.Results[0]; r.Kind != kindOK {
			return errors.New(r.Err)
		}
		return nil
	}
	if err := publish(`{"v":"honest"}`); err != nil {
		t.Fatalf("honest publish through the relay: %v", err)
	}

	relay.flip.Store(true)
	err = publish(`{"v":"TAMPER"}`)
	if relay.flipped.Load() != 1 {
		t.Fatalf("the relay flipped %d bytes; want 1", relay.flipped.Load())
	}
	if err == nil {
		t.Fatal("a publish with a flipped byte was accepted")
	}
	if err := publish(`{"v":"after"}`); err == nil {
		t.Fatal("the connection carried on after a flipped byte")
	}

	// Nothing but the honest message reached the log.
	if _, err := n1.Publish(context.Background(), log.Entry{Channel: "t", EventType: "e", Content: []byte(`{"v":"local"}`)}); err != nil {
		t.Fatal(err)
	}
	msgs, err := n1.store.Read("t", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, string(m.Content))
	}
	if strings.Join(got, " ") != `{"v":"honest"} {"v":"local"}` {
		t.Fatalf("channel holds %q; want only the honest and the local message", got)
	}
}

// lineLog is a slog logger whose lines can be counted.
type lineLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lineLog) lines(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

func (l *lineLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// TestLink_WrongSecretCannotJoinVoteOrForward: a cluster bootstrapped with
// three members, one of which holds another secret. The two honest nodes
// elect a leader and commit; the third never receives an entry, cannot
// forward a write, and each honest node says once, by name, why.
func TestLink_WrongSecretCannotJoinVoteOrForward(t *testing.T) {
	base := t.TempDir()
	var addrs []string
	var lns []net.Listener
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		lns = append(lns, ln)
	}
	for _, ln := range lns {
		ln.Close()
	}
	peers := []Peer{{"n1", addrs[0]}, {"n2", addrs[1]}, {"evil", addrs[2]}}
	logs := map[string]*lineLog{}
	start := func(id, addr, secret string) *testNode {
		logs[id] = &lineLog{}
		return startNode(t, id, base+"/"+id, func(c *Config) {
			c.RaftAddr, c.BootstrapPeers, c.Secret, c.Logger = addr, peers, secret, logs[id].logger()
			// Two honest voters of three have no spare: on a loaded
			// machine, keep a slow heartbeat from costing the leadership.
			c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 2*time.Second, 2*time.Second, time.Second
		})
	}
	evil := start("evil", addrs[2], "another secret")
	n1 := start("n1", addrs[0], "s3cret")
	n2 := start("n2", addrs[1], "s3cret")
	testwait.For(t, "a leader among the honest nodes", func() bool { return n1.IsLeader() || n2.IsLeader() })
	ctx := context.Background()
	for i := range 20 {
		if _, err := n1.Publish(ctx, entry("c", i)); err != nil {
			t.Fatal(err)
		}
	}
	leader := n1
	if n2.IsLeader() {
		leader = n2
	}
	if evil.IsLeader() {
		t.Fatal("the node with another secret became leader")
	}
	if got := evil.store.Applied(); got != 0 {
		t.Fatalf("the node with another secret applied up to index %d", got)
	}
	_, err := evil.fwd.client(string(leader.trans.LocalAddr()))
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("forward from the node with another secret: err = %v; want ErrUnauthenticated", err)
	}
	if !strings.Contains(err.Error(), "does not share this node's cluster secret") {
		t.Fatalf("forward error %q does not say why", err)
	}
	// The leader keeps trying to replicate to evil; it says so once.
	want := "evil (" + addrs[2] + ") does not share this node's cluster secret"
	testwait.For(t, "the leader to name the peer", func() bool { return len(logs[leader.ID()].lines(want)) > 0 })
	time.Sleep(time.Second) // many more replication attempts
	if got := logs[leader.ID()].lines(want); len(got) != 1 {
		t.Fatalf("the leader logged %d lines about evil; want 1:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, l := range logs[leader.ID()].lines("EOF") {
		if strings.Contains(l, "evil") {
			t.Fatalf("a refusal logged as EOF: %s", l)
		}
	}
}

// TestLink_RefusedConnectionsLogOnce: 2,000 connections that send nothing
// and 200 that speak TLS with another secret give a few log lines, not one
// each (issue 11 item 11 had 2,004 lines).
func TestLink_RefusedConnectionsLogOnce(t *testing.T) {
	lines := &lineLog{}
	n1 := startNode(t, "n1", t.TempDir(), func(c *Config) { c.Logger = lines.logger() })
	addr := string(n1.trans.LocalAddr())
	for range 2000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	creds, err := secretCreds([]byte("another secret"), "evil")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := newStreamLayer("127.0.0.1:0", "", creds, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stranger.Close(); stranger.wait() })
	for range 200 {
		if _, err := stranger.dial(addr, 2*time.Second, connRaft); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("dial with another secret: %v", err)
		}
	}
	testwait.For(t, "every refusal counted", func() bool { return n1.stream.rejects.refused.Load() == 2200 })
	got := lines.lines("raft connection")
	if len(got) > 3 {
		t.Fatalf("%d log lines for 2,200 refused connections:\n%s", len(got), strings.Join(got, "\n"))
	}
	if len(lines.lines("does not share this node's cluster secret")) != 1 {
		t.Fatalf("the refusal for another secret is not named once:\n%s", strings.Join(got, "\n"))
	}
	t.Logf("2,200 refused connections, %d log lines:\n%s", len(got), strings.Join(got, "\n"))
}

// writeCA makes a CA and returns a function that issues a node
// certificate and key signed by it, each written as PEM files under dir.
func writeCA(t *testing.T, dir, name string) (caFile string, issue func(node string) (certFile, keyFile string)) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write := func(file, typ string, der []byte) string {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile = write(name+"-ca.pem", "CERTIFICATE", caDER)
	serial := int64(2)
	return caFile, func(node string) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		serial++
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: node}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalPKCS8PrivateKey(key)
		return write(name+"-"+node+".pem", "CERTIFICATE", der), write(name+"-"+node+"-key.pem", "PRIVATE KEY", kder)
	}
}

// TestLink_CertificatesFromFiles: nodes given certificates from one CA
// form a cluster and forward writes (their cluster secrets differ, and do
// not matter); a node whose certificate comes from another CA is refused.
func TestLink_CertificatesFromFiles(t *testing.T) {
	base := t.TempDir()
	caFile, issue := writeCA(t, base, "cluster")
	otherCA, issueOther := writeCA(t, base, "other")
	withFiles := func(ca string, cert, key string) func(*Config) {
		return func(c *Config) {
			c.TLSCAFile, c.TLSCertFile, c.TLSKeyFile = ca, cert, key
			c.Secret = "ignored-" + c.NodeID
		}
	}
	cert, key := issue("n1")
	n1 := startNode(t, "n1", base+"/n1", withFiles(caFile, cert, key))
	testwait.For(t, "n1 leadership", n1.IsLeader)
	cert, key = issue("n2")
	n2 := startNode(t, "n2", base+"/n2", func(c *Config) { withFiles(caFile, cert, key)(c); c.Join = true })
	ctx := context.Background()
	if _, err := n1.AddMember(ctx, "n2", string(n2.trans.LocalAddr()), false); err != nil {
		t.Fatal(err)
	}
	if _, err := n2.Publish(ctx, entry("f", 1)); err != nil {
		t.Fatalf("publish forwarded over the file-certificate link: %v", err)
	}

	cert, key = issueOther("n3")
	n3 := startNode(t, "n3", base+"/n3", func(c *Config) { withFiles(otherCA, cert, key)(c); c.Join = true })
	if _, err := n3.fwd.client(string(n1.trans.LocalAddr())); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a node with another CA's certificate dialed the leader: err = %v", err)
	}
	if _, err := n1.stream.dial(string(n3.trans.LocalAddr()), time.Second, connRaft); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("the leader dialed a node with another CA's certificate: err = %v", err)
	}
}

func TestConfig_TLSFilesAllOrNone(t *testing.T) {
	c := Config{NodeID: "n1", Dir: "d", Store: &log.Store{}, TLSCAFile: "ca.pem"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "all three") {
		t.Fatalf("Validate with only a CA file: %v", err)
	}
}
