package jepsen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pushflo/pushflo/jepsen/faultfs"
)

// diskFS is the fault-injecting filesystem under one node's data
// directory: a *faultfs.FS on Linux (disk_linux.go), never set elsewhere.
type diskFS interface {
	PowerCut() (int64, error)
	SetFailSync(on bool)
	SetFailWrite(on bool)
	SetDelay(d time.Duration)
	Stats() faultfs.Stats
	Close() error
}

// PowerCutNemesis simulates power loss on nodes whose data directories sit
// on faultfs (ClusterConfig.FaultFS): it SIGKILLs them and drops every
// write they had not fsynced. The nodes stay down until Heal restarts them
// on what survived.
type PowerCutNemesis struct {
	// Mode is "minority" (one node, the leader half the time, of three)
	// or "all" (every node at once: correlated loss). Default "minority".
	Mode string
}

func (p PowerCutNemesis) Name() string { return "power-cut" }

func (p PowerCutNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	var nodes []*Node
	why := ""
	if p.Mode == "all" {
		nodes = c.Members()
	} else {
		n, w := pickNode(ctx, c, rng, 0, func(n *Node) bool { return n.Running() })
		if n == nil {
			return "power-cut: no node running", nil
		}
		nodes, why = []*Node{n}, w
	}
	var parts []string
	for _, n := range nodes {
		if err := n.Kill(); err != nil {
			return "", fmt.Errorf("power-cut nemesis: %w", err)
		}
	}
	for _, n := range nodes {
		if n.disk == nil {
			return "", errors.New("power-cut nemesis: cluster started without FaultFS")
		}
		lost, err := n.disk.PowerCut()
		if err != nil {
			return "", fmt.Errorf("power-cut nemesis: %s: %w", n.ID, err)
		}
		parts = append(parts, fmt.Sprintf("%s lost %d unsynced bytes", n.ID, lost))
	}
	kind := "power-cut-minority"
	if p.Mode == "all" {
		kind = "power-cut-all"
	}
	return fmt.Sprintf("%s: %s%s", kind, strings.Join(parts, ", "), why), nil
}

// Heal restarts every node that is down and waits for /ready.
func (PowerCutNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	return KillNemesis{}.Heal(ctx, c)
}

// DiskNemesis makes one node's disk fail (faultfs): "fsync-eio" fails
// every fsync with EIO (and loses what it should have written, as Linux
// does), "enospc" fails every write with ENOSPC. The node must not
// acknowledge what it could not make durable. Heal notes how the node
// looked during the fault (running or exited, /ready), then kills it,
// cuts its power (so anything it acknowledged without a good fsync is
// lost) and restarts it on the healthy disk.
type DiskNemesis struct {
	// Modes to choose from; default both "fsync-eio" and "enospc".
	Modes []string

	mu     *sync.Mutex
	broken *[]*Node
}

// NewDiskNemesis returns a DiskNemesis over modes (default both).
func NewDiskNemesis(modes ...string) DiskNemesis {
	return DiskNemesis{Modes: modes, mu: &sync.Mutex{}, broken: new([]*Node)}
}

func (DiskNemesis) Name() string { return "disk" }

func (d DiskNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	if d.mu == nil {
		return "", errors.New("disk nemesis: build it with NewDiskNemesis")
	}
	mode := pickMode(rng, d.Modes, "fsync-eio", "enospc")
	n, why := pickNode(ctx, c, rng, 0, func(n *Node) bool { return n.Running() && n.disk != nil })
	if n == nil {
		return "disk: no node with faultfs running", nil
	}
	switch mode {
	case "fsync-eio":
		n.disk.SetFailSync(true)
	case "enospc":
		n.disk.SetFailWrite(true)
	default:
		return "", fmt.Errorf("disk nemesis: mode %q is not fsync-eio or enospc", mode)
	}
	d.mu.Lock()
	*d.broken = append(*d.broken, n)
	d.mu.Unlock()
	return fmt.Sprintf("disk-%s: %s%s", mode, n.ID, why), nil
}

func (d DiskNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	if d.mu == nil {
		return "disk heal: nothing injected", nil
	}
	d.mu.Lock()
	broken := *d.broken
	*d.broken = nil
	d.mu.Unlock()
	var notes []string
	for _, n := range broken {
		note := n.ID + " during the fault: " + nodeCondition(ctx, n)
		st := n.disk.Stats()
		if err := n.Kill(); err != nil {
			return "", fmt.Errorf("disk nemesis heal: %w", err)
		}
		lost, err := n.disk.PowerCut()
		if err != nil {
			return "", fmt.Errorf("disk nemesis heal: %s: %w", n.ID, err)
		}
		notes = append(notes, fmt.Sprintf("%s (%d failed fsyncs, %d failed writes); power cut lost %d bytes", note, st.FailedSyncs, st.FailedWrites, lost))
	}
	desc, err := KillNemesis{}.Heal(ctx, c)
	if err != nil {
		return "", fmt.Errorf("disk nemesis heal: %w", err)
	}
	return fmt.Sprintf("disk heal: %s; %s", strings.Join(notes, "; "), desc), nil
}

// nodeCondition says whether n is running and what its /ready answers.
func nodeCondition(ctx context.Context, n *Node) string {
	if !n.Running() {
		return "exited by itself"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.DirectURL()+"/ready", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "running, /ready unreachable"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return fmt.Sprintf("running, /ready %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}
