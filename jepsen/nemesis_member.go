package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pushflo/pushflo/client"
)

// MembershipNemesis changes the cluster's membership while the workload
// runs (ClusterConfig.Spares gives it nodes to add): "join" starts a spare
// with --join and waits until the leader lists it as a voter; "promote"
// joins a spare as a non-voter and then promotes it to voter; "remove"
// removes a random non-leader member and "remove-leader" the leader
// (DELETE /api/v1/cluster/members/ID through another member), then kills
// the removed node and wipes its data directory, making it a spare again.
// It removes only when more than three members remain after it; otherwise
// it joins. A change that does not complete is recorded as the nemesis
// failing to inject it, not as a harness error: membership changes under
// partitions and kills may time out. Heal starts every member that is down.
type MembershipNemesis struct {
	// Modes to choose from; default all of join, promote, remove and
	// remove-leader.
	Modes []string
}

func (MembershipNemesis) Name() string { return "membership" }

// memberTimeout bounds one membership change.
const memberTimeout = 30 * time.Second

func (m MembershipNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	mode := pickMode(rng, m.Modes, "join", "promote", "remove", "remove-leader")
	members := c.Members()
	var spares []*Node
	for _, n := range c.Nodes() {
		if !n.Member() && !n.Running() {
			spares = append(spares, n)
		}
	}
	removing := mode == "remove" || mode == "remove-leader"
	if removing && len(members) <= 3 {
		mode, removing = "join", false
	}
	if !removing && len(spares) == 0 {
		if len(members) <= 3 {
			return "membership: no spare to join and too few members to remove", nil
		}
		mode, removing = "remove", true
	}
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	if removing {
		leader, _ := c.Leader(ctx)
		var target *Node
		if mode == "remove-leader" {
			target = c.Node(leader)
		}
		if target == nil {
			var cand []*Node
			for _, n := range members {
				if n.ID != leader {
					cand = append(cand, n)
				}
			}
			target = cand[rng.IntN(len(cand))]
		}
		via := viaMember(c, target)
		if via == nil {
			return fmt.Sprintf("membership-%s: no running member to ask", mode), nil
		}
		if err := via.admin.RemoveMember(ctx, target.ID); err != nil {
			return fmt.Sprintf("membership-%s: remove %s via %s failed: %v", mode, target.ID, via.ID, err), nil
		}
		target.setMember(false)
		if err := target.Kill(); err != nil {
			return "", fmt.Errorf("membership nemesis: %w", err)
		}
		if err := wipeDir(target.DataDir); err != nil {
			return "", fmt.Errorf("membership nemesis: %w", err)
		}
		return fmt.Sprintf("membership-%s: removed %s via %s", mode, target.ID, via.ID), nil
	}
	spare := spares[rng.IntN(len(spares))]
	via := viaMember(c, spare)
	if via == nil {
		return fmt.Sprintf("membership-%s: no running member to join through", mode), nil
	}
	if err := wipeDir(spare.DataDir); err != nil {
		return "", fmt.Errorf("membership nemesis: %w", err)
	}
	spare.setJoin(via.DirectURL(), mode == "promote")
	spare.setMember(true)
	if err := spare.Start(); err != nil {
		return "", fmt.Errorf("membership nemesis: %w", err)
	}
	// The spare's own --join retries for a minute; wait until the cluster
	// lists it.
	if !c.waitListed(ctx, spare.ID) {
		return fmt.Sprintf("membership-%s: %s started with --join %s but not listed within %s", mode, spare.ID, via.ID, memberTimeout), nil
	}
	if mode == "promote" {
		if err := via.admin.AddMember(ctx, client.Member{ID: spare.ID, RaftAddr: spare.AdvertiseAddr}); err != nil {
			return fmt.Sprintf("membership-promote: %s joined as a non-voter via %s; promoting failed: %v", spare.ID, via.ID, err), nil
		}
		return fmt.Sprintf("membership-promote: %s joined as a non-voter via %s, promoted to voter", spare.ID, via.ID), nil
	}
	return fmt.Sprintf("membership-join: %s joined via %s", spare.ID, via.ID), nil
}

// Heal starts every member that is down and waits for /ready.
func (MembershipNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	return KillNemesis{}.Heal(ctx, c)
}

// viaMember returns a running, unpaused member other than not, preferring
// the leader's view is not needed: the server forwards membership calls.
func viaMember(c *Cluster, not *Node) *Node {
	for _, n := range c.Members() {
		if n != not && n.Running() && !n.Paused() {
			return n
		}
	}
	return nil
}

// waitListed polls the members' cluster status until one lists id.
func (c *Cluster) waitListed(ctx context.Context, id string) bool {
	for ctx.Err() == nil {
		for _, n := range c.Members() {
			if n.ID == id || !n.Running() || n.Paused() {
				continue
			}
			if slices.Contains(c.listedMembers(ctx, n), id) {
				return true
			}
		}
		sleepCtx(ctx, 300*time.Millisecond)
	}
	return false
}

// listedMembers returns the member IDs node n's /api/v1/cluster names.
func (c *Cluster) listedMembers(ctx context.Context, n *Node) []string {
	st, err := n.clusterStatus(ctx)
	if err != nil {
		return nil
	}
	var ids []string
	for _, m := range st.Members {
		ids = append(ids, m.ID)
	}
	return ids
}

// wipeDir empties dir (a data directory, possibly a faultfs mountpoint
// that must stay) so a node joins fresh.
func wipeDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return os.MkdirAll(dir, 0o755)
		}
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
