//go:build integration

package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client/sse"
	"github.com/pushflo/pushflo/client/testproc"
)

// These tests build the real binary and talk to it over HTTP only.

var binPath string

func TestMain(m *testing.M) {
	var err error
	if binPath, err = testproc.Binary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testproc.Cleanup()
	os.Exit(code)
}

const (
	pubKey  = "pub_e2etestkey1"
	secKey  = "sec_e2etestkey1"
	mgmtKey = "mgmt_e2etestkey1"
)

// proc is one pushflo process on ports reserved for the test's life
// (client/testproc); args may be changed before each start.
type proc struct {
	*testproc.Node
	t        *testing.T
	id       string
	args     []string
	httpAddr string
	raftAddr string
}

func newProc(t *testing.T, id, dataDir string, extra ...string) *proc {
	t.Helper()
	n, err := testproc.NewNode(testproc.NodeConfig{Bin: binPath, ID: id, DataDir: dataDir, LogPath: filepath.Join(t.TempDir(), id+".log"),
		Keys: testproc.Keys{Publish: pubKey, Secret: secKey, Mgmt: mgmtKey}, ClusterSecret: "e2e-cluster-secret", Args: extra})
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{Node: n, t: t, id: id, args: n.CurrentArgs(), httpAddr: n.HTTP.Addr, raftAddr: n.Raft.Addr}
	t.Cleanup(func() {
		n.Close()
		if t.Failed() {
			t.Logf("logs of %s:\n%s", id, p.logText())
		}
	})
	return p
}

// startProc is newProc, start and waitReady.
func startProc(t *testing.T, id, dataDir string, extra ...string) *proc {
	t.Helper()
	p := newProc(t, id, dataDir, extra...)
	p.start()
	p.waitReady()
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.SetArgs(p.args)
	if err := p.Start(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *proc) waitReady() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := testproc.WaitReady(ctx, p.Proc, p.URL()); err != nil {
		p.t.Fatal(err)
	}
}

func (p *proc) kill() {
	if err := p.Kill(); err != nil {
		p.t.Error(err)
	}
}

func (p *proc) stop() {
	p.t.Helper()
	if err := p.Stop(20 * time.Second); err != nil {
		p.t.Fatal(err)
	}
}

// logText is the process's output over all its starts, without the
// harness's header line before each.
func (p *proc) logText() string {
	b, _ := os.ReadFile(p.LogPath)
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(line, testproc.StartHeader) {
			out.WriteString(line)
		}
	}
	return out.String()
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

func call(method, url, key string, body string, hdr ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// publish returns the message ID on 201.
func publish(base, channel, content string) (int, string, error) {
	status, b, err := call("POST", base+"/api/v1/channels/"+channel+"/messages", secKey, `{"content":`+content+`}`)
	if err != nil || status != 201 {
		return status, string(b), err
	}
	var r struct{ Data struct{ ID string } }
	if err := json.Unmarshal(b, &r); err != nil {
		return status, "", err
	}
	return status, r.Data.ID, nil
}

// publishRetried publishes under an idempotency key derived from content
// and repeats it after a 503 (no leader, or the leader changed mid-write)
// for up to 30 s: on a loaded machine a two-node majority can change
// leader while a test writes, and the key makes the repeat safe. It
// returns the message ID.
func publishRetried(t *testing.T, base, channel, content string) string {
	t.Helper()
	key := fmt.Sprintf("%x", sha256.Sum256([]byte(channel+"\x00"+content)))
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, b, err := call("POST", base+"/api/v1/channels/"+channel+"/messages", secKey, `{"content":`+content+`}`, "Idempotency-Key", key)
		if err == nil && status == 201 {
			var r struct{ Data struct{ ID string } }
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("publish %s: %v", content, err)
			}
			return r.Data.ID
		}
		if (err == nil && status != 503) || time.Now().After(deadline) {
			t.Fatalf("publish %s: %d %s %v", content, status, b, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type message struct {
	ID      string          `json:"id"`
	Content json.RawMessage `json:"content"`
}

// readAll reads a channel oldest first through the since extension.
func readAll(t *testing.T, base, channel string, extra string) []message {
	t.Helper()
	var out []message
	since := "0"
	for {
		status, b, err := call("GET", fmt.Sprintf("%s/api/v1/channels/%s/messages?since=%s&limit=1000%s", base, channel, since, extra), secKey, "")
		if err != nil || status != 200 {
			t.Fatalf("since read: %d %s %v", status, b, err)
		}
		var r struct {
			Data struct {
				Items   []message
				HasMore bool
				Next    string
			}
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Data.Items...)
		if !r.Data.HasMore {
			return out
		}
		since = r.Data.Next
	}
}

// TestE2E_QuickStart is the README's walk: publish over REST, read it back,
// restart, read it again.
func TestE2E_QuickStart(t *testing.T) {
	p := startProc(t, "n1", t.TempDir())
	base := "http://" + p.httpAddr
	status, id, err := publish(base, "orders:user-123", `{"status":"shipped"}`)
	if err != nil || status != 201 {
		t.Fatalf("publish: %d %s %v", status, id, err)
	}
	p.stop()
	p.start()
	p.waitReady()
	status, b, err := call("GET", base+"/api/v1/channels/orders:user-123/messages", secKey, "")
	if err != nil || status != 200 || !strings.Contains(string(b), id) || !strings.Contains(string(b), `"status":"shipped"`) {
		t.Fatalf("history after restart: %d %s %v", status, b, err)
	}
}

// TestE2E_KillMidPublishStream SIGKILLs the server while 16 clients
// publish, restarts it, and checks every acknowledged publish is in
// history exactly once and in order, and nothing appears that was not
// sent; once per Raft log store.
func TestE2E_KillMidPublishStream(t *testing.T) {
	forEachLogStore(t, func(t *testing.T, store string) {
		dir := t.TempDir()
		p := startProc(t, "n1", dir, "--raft-log-store", store)
		base := "http://" + p.httpAddr
		l := startLoad(repeat(base, 16), "kill")
		l.waitAcked(2000, 20*time.Second)
		p.kill()
		acked, attempts := l.halt()
		if len(acked) == 0 {
			t.Fatal("no publish was acknowledged before the kill")
		}

		p.start()
		p.waitReady()
		msgs := readAll(t, base, "kill", "")
		checkAcked(t, msgs, acked)
		for _, m := range msgs {
			var c struct{ V string }
			json.Unmarshal(m.Content, &c)
			if !attempts[c.V] {
				t.Fatalf("value %s in history was never sent", c.V)
			}
		}
		t.Logf("%d acknowledged before SIGKILL, %d in history after restart (%d were in flight)", len(acked), len(msgs), len(msgs)-len(acked))
	})
}

// forEachLogStore runs f as one subtest per Raft log store: every
// durability test must hold with each.
func forEachLogStore(t *testing.T, f func(t *testing.T, store string)) {
	for _, s := range []string{"wal", "boltdb"} {
		t.Run("store="+s, func(t *testing.T) { f(t, s) })
	}
}

// load publishes unique values to one channel from one goroutine per
// target URL until halted, recording what was attempted and what was
// acknowledged (value → ID).
type load struct {
	mu          sync.Mutex
	acked       map[string]string
	attempts    map[string]bool
	unavailable int // answered 503
	failed      int // no answer, or another status
	stop        chan struct{}
	wg          sync.WaitGroup
}

func startLoad(targets []string, channel string) *load {
	l := &load{acked: map[string]string{}, attempts: map[string]bool{}, stop: make(chan struct{})}
	for w, base := range targets {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				v := fmt.Sprintf("w%d-%d", w, i)
				l.mu.Lock()
				l.attempts[v] = true
				l.mu.Unlock()
				st, id, err := publish(base, channel, `{"v":"`+v+`"}`)
				l.mu.Lock()
				switch {
				case err == nil && st == 201:
					l.acked[v] = id
				case err == nil && st == 503:
					l.unavailable++
				default:
					l.failed++
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond) // the node is gone; do not spin
				}
			}
		}()
	}
	return l
}

// waitAcked waits until n publishes were acknowledged, or for at most d.
func (l *load) waitAcked(n int, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		got := len(l.acked)
		l.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// halt stops the publishers and returns what they did.
func (l *load) halt() (acked map[string]string, attempts map[string]bool) {
	close(l.stop)
	l.wg.Wait()
	return l.acked, l.attempts
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// streamSSEUntil sends the IDs of an SSE stream's events to out until stop.
func streamSSEUntil(url string, stop chan struct{}, out chan<- string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	r := sse.NewReader(resp.Body, 0)
	for {
		ev, err := r.Next()
		if err != nil {
			return
		}
		if ev.ID != "" {
			out <- ev.ID
		}
	}
}

// TestE2E_ClientCommands runs the README's client lines against a real
// node: publish, history, subscribe (SSE and WebSocket) resuming from an ID,
// cluster status.
func TestE2E_ClientCommands(t *testing.T) {
	p := startProc(t, "n1", t.TempDir())
	base := "http://" + p.httpAddr
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binPath, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("pushflo %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("publish", "orders:user-123", `{"status":"shipped"}`, "--event", "order-shipped", "--server", base, "--key", secKey)
	var pub struct{ ID, EventType, ChannelSlug string }
	if err := json.Unmarshal([]byte(out), &pub); err != nil || pub.EventType != "order-shipped" || pub.ID == "" || pub.ChannelSlug != "orders:user-123" {
		t.Fatalf("publish printed %s", out)
	}
	if h := run("history", "orders:user-123", "--server", base, "--key", secKey); !strings.Contains(h, pub.ID) {
		t.Fatalf("history printed %s", h)
	}
	for _, tr := range []string{"sse", "ws"} {
		// The first --server is dead: the client moves on to the live one.
		sub := exec.Command(binPath, "subscribe", "orders:user-123", "--from", "0000000000000000", "--transport", tr,
			"--server", "http://127.0.0.1:1,"+base, "--key", pubKey)
		stdout, _ := sub.StdoutPipe()
		if err := sub.Start(); err != nil {
			t.Fatal(err)
		}
		line := make(chan string, 1)
		go func() {
			l, _ := bufio.NewReader(stdout).ReadString('\n')
			line <- l
		}()
		select {
		case l := <-line:
			var m struct {
				ID      string
				Channel string
				Content json.RawMessage
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil || m.ID != pub.ID || m.Channel != "orders:user-123" || string(m.Content) != `{"status":"shipped"}` {
				t.Fatalf("subscribe --transport %s printed %q", tr, l)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("subscribe --transport %s printed nothing", tr)
		}
		sub.Process.Kill()
		sub.Wait()
	}
	if st := run("cluster", "status", "--server", base, "--key", mgmtKey); !strings.Contains(st, "leader: n1") || !strings.Contains(st, p.raftAddr) {
		t.Fatalf("cluster status printed %s", st)
	}
	// A refused publish names the problem and exits non-zero.
	bad, err := exec.Command(binPath, "publish", "a b", `{}`, "--server", base, "--key", secKey).CombinedOutput()
	if err == nil || !strings.Contains(string(bad), "contains ' ' at position 2") {
		t.Fatalf("publish to \"a b\": %v\n%s", err, bad)
	}
}
