//go:build integration && docker

package main

// Run by `make docker-test`, which builds the image first and starts (and
// afterwards stops) dockerd when it is not running.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/internal/testcert"
	"github.com/pushflo/pushflo/internal/testwait"
)

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestDocker_ClusterSurvivesLosingAContainer starts the image as a 3-node
// cluster (deploy/docker/cluster.sh) serving clients over TLS, checks the
// image (scratch, non-root, /data volume, healthy by its HEALTHCHECK), kills
// the leader's container, publishes and receives on the survivors, then
// starts the container again and sees it catch up from its volume.
func TestDocker_ClusterSurvivesLosingAContainer(t *testing.T) {
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skipf("SKIPPED: docker is not available (%v); run make docker-test on a machine with docker.io", err)
	}
	image := os.Getenv("PUSHFLO_IMAGE")
	if image == "" {
		image = "pushflo:latest"
	}
	cfg := docker(t, "image", "inspect", "--format", "{{.Config.User}} {{json .Config.Volumes}} {{json .Config.Healthcheck.Test}} {{len .RootFS.Layers}}", image)
	t.Logf("image %s: user, volumes, healthcheck, layers: %s", image, cfg)
	if !strings.HasPrefix(cfg, "10001:10001 ") || !strings.Contains(cfg, `"/data"`) || !strings.Contains(cfg, "healthcheck") {
		t.Fatalf("image config %q: want user 10001, a /data volume and the healthcheck", cfg)
	}

	ca := testcert.NewCA(t)
	leaf := ca.Issue(t, 1, "127.0.0.1", "localhost", "n1", "n2", "n3")
	certDir := t.TempDir()
	certFile, keyFile := leaf.Write(t, certDir)
	os.Chmod(certFile, 0o644)
	os.Chmod(keyFile, 0o644) // the container's uid 10001 reads it
	os.Chmod(certDir, 0o755)

	prefix := fmt.Sprintf("pfdt%d", rand.IntN(100000))
	port := 20000 + rand.IntN(20000)
	script, _ := filepath.Abs(filepath.Join("..", "..", "deploy", "docker", "cluster.sh"))
	up := exec.Command(script, "up", certDir)
	up.Env = append(os.Environ(), "IMAGE="+image, "PREFIX="+prefix, fmt.Sprintf("HTTP_PORT=%d", port),
		fmt.Sprintf("SUBNET=172.29.%d", 10+rand.IntN(200)),
		"PUBLISH_KEY="+pubKey, "SECRET_KEY="+secKey, "MGMT_KEY="+mgmtKey)
	t.Cleanup(func() {
		if t.Failed() {
			for i := 1; i <= 3; i++ {
				out, _ := exec.Command("docker", "logs", "--tail", "40", fmt.Sprintf("%s-n%d", prefix, i)).CombinedOutput()
				t.Logf("logs of n%d:\n%s", i, out)
			}
		}
		down := exec.Command(script, "down")
		down.Env = append(os.Environ(), "PREFIX="+prefix)
		if out, err := down.CombinedOutput(); err != nil {
			t.Logf("cluster.sh down: %v %s", err, out)
		}
	})
	out, err := up.CombinedOutput()
	t.Logf("cluster.sh up:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}

	urls := make([]string, 3)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://127.0.0.1:%d", port+i)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}, Timeout: 5 * time.Second}
	ready := func(u string) bool {
		resp, err := hc.Get(u + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	for i, u := range urls {
		testwait.Within(t, fmt.Sprintf("n%d ready over https", i+1), 90*time.Second, func() bool { return ready(u) })
	}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("%s-n%d", prefix, i)
		testwait.Within(t, name+" healthy (HEALTHCHECK: pushflo healthcheck)", 90*time.Second, func() bool {
			return docker(t, "inspect", "--format", "{{.State.Health.Status}}", name) == "healthy"
		})
		t.Logf("%s: %s", name, docker(t, "inspect", "--format", "user={{.Config.User}} health={{.State.Health.Status}} mounts={{range .Mounts}}{{.Destination}}:{{.Type}} {{end}}", name))
	}

	leaderID := func(u string) string {
		req, _ := http.NewRequest("GET", u+"/api/v1/cluster", nil)
		req.Header.Set("Authorization", "Bearer "+mgmtKey)
		resp, err := hc.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		var st struct {
			Data struct{ Leader string } `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&st)
		return st.Data.Leader
	}
	var leader string
	testwait.Within(t, "a leader", 60*time.Second, func() bool { leader = leaderID(urls[0]); return leader != "" })
	t.Logf("leader: %s", leader)

	c, err := client.New(client.Config{Addrs: urls, SecretKey: secKey, PublishKey: pubKey,
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// publish retries, with the same idempotency key, until the cluster
	// answers 201 or the context ends: the client tries each node once per
	// call, and an election after the leader's loss takes a few seconds.
	publish := func(n int) {
		t.Helper()
		for attempt := 1; ; attempt++ {
			_, err := c.Publish(ctx, "docker:a", map[string]int{"n": n}, client.WithIdempotencyKey(fmt.Sprintf("docker-%d", n)))
			if err == nil {
				if attempt > 1 {
					t.Logf("publish %d acknowledged at attempt %d", n, attempt)
				}
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("publish %d: %v", n, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	for n := 0; n < 10; n++ {
		publish(n)
	}

	// A subscriber on a node that survives, over wss.
	var survivor int
	for i := range urls {
		if fmt.Sprintf("n%d", i+1) != leader {
			survivor = i
			break
		}
	}
	sc, _ := client.New(client.Config{Addrs: []string{urls[survivor]}, PublishKey: pubKey, SecretKey: secKey,
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}})
	sub, err := sc.Subscribe(ctx, "docker:a", client.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	killed := prefix + "-" + leader
	start := time.Now()
	docker(t, "kill", killed)
	t.Logf("killed the leader's container %s", killed)
	for n := 10; n < 20; n++ {
		publish(n)
	}
	t.Logf("10 publishes acknowledged by the two surviving containers %s after the kill", time.Since(start).Round(time.Millisecond))
	got := 0
	for got < 10 {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("subscriber on n%d: %v after %d messages", survivor+1, err, got)
		}
		if ev.Kind == client.EventMessage {
			got++
		}
	}
	t.Logf("subscriber over wss on n%d received the 10 messages published after the kill", survivor+1)
	newLeader := leaderID(urls[survivor])
	t.Logf("new leader: %s", newLeader)

	// The killed container comes back on its volume and catches up.
	docker(t, "start", killed)
	var killedURL string
	for i := range urls {
		if fmt.Sprintf("n%d", i+1) == leader {
			killedURL = urls[i]
		}
	}
	testwait.Within(t, killed+" ready again", 90*time.Second, func() bool { return ready(killedURL) })
	testwait.Within(t, killed+" has all 20 messages", 60*time.Second, func() bool {
		req, _ := http.NewRequest("GET", killedURL+"/api/v1/channels/docker:a/messages?pageSize=100", nil)
		req.Header.Set("Authorization", "Bearer "+secKey)
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h struct {
			Data struct {
				Items []json.RawMessage `json:"items"`
			} `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&h)
		return len(h.Data.Items) == 20
	})
	t.Logf("%s restarted from its volume and serves all 20 messages", killed)
}
