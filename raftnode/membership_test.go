package raftnode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testwait"
)

// publishWithin publishes one message through n within d, or fails.
func publishWithin(t *testing.T, n *testNode, ch string, i int, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if _, err := n.Publish(ctx, entry(ch, i)); err != nil {
		t.Fatalf("publish %d through %s: %v", i, n.ID(), err)
	}
}

// TestMembership_BadJoinLeavesSingleNodeServing is issue 11 item 4: a
// member that never answers (nothing listens on 127.0.0.1:1) added to a
// one-node cluster. Before learners it was added as a voter: the
// configuration of two voters needed both, the node lost its leadership
// for good, publishes failed with "no leader" and so did the removal.
// Now it joins as a learner that is never promoted, the node keeps
// leading and publishing, and the member can be removed.
func TestMembership_BadJoinLeavesSingleNodeServing(t *testing.T) {
	n := startNode(t, "n1", t.TempDir(), nil)
	testwait.For(t, "leadership", n.IsLeader)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	role, err := n.AddMember(ctx, "evil", "127.0.0.1:1", false)
	if err != nil {
		t.Fatalf("add evil: %v", err)
	}
	if role != RoleLearner {
		t.Fatalf("evil joined as %q, want %q", role, RoleLearner)
	}
	// Several promotion rounds pass; evil never catches up.
	deadline := time.Now().Add(5 * n.cfg.PromoteStable)
	for i := 0; time.Now().Before(deadline); i++ {
		publishWithin(t, n, "c", i, 5*time.Second)
		time.Sleep(50 * time.Millisecond)
	}
	if !n.IsLeader() {
		t.Fatal("n1 lost its leadership to a member that never answered")
	}
	if r := roleIn(t, n, "evil"); r != RoleLearner {
		t.Fatalf("evil is %q after the promotion rounds, want it still a learner", r)
	}
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].ID != "evil" || st[0].Role != RoleLearner || st[0].Error == "" || st[1].Role != RoleVoter {
		t.Fatalf("status = %+v, want evil an unreachable learner and n1 a voter", st)
	}
	if err := n.RemoveMember(ctx, "evil"); err != nil {
		t.Fatalf("remove evil: %v", err)
	}
	if r := roleIn(t, n, "evil"); r != "" {
		t.Fatalf("evil still a member (%s) after removal", r)
	}
	if n.Node.fsm.learners.has("evil") {
		t.Fatal("evil still recorded as a learner after removal")
	}
	publishWithin(t, n, "c", -1, 5*time.Second)
}

// TestMembership_LearnerPromotedOnceCaughtUp: a member cut off from the
// leader stays a learner through many promotion rounds; once it can talk
// it catches up and the leader promotes it, and it holds the history.
func TestMembership_LearnerPromotedOnceCaughtUp(t *testing.T) {
	base := t.TempDir()
	n1 := startNode(t, "n1", base+"/n1", nil)
	testwait.For(t, "n1 leadership", n1.IsLeader)
	for i := 0; i < 50; i++ {
		publishWithin(t, n1, "h", i, 5*time.Second)
	}
	n2 := startNode(t, "n2", base+"/n2", func(c *Config) { c.Join = true })
	n2.net.setCut(true)
	ctx := context.Background()
	role, err := n1.AddMember(ctx, "n2", n2.addr(), false)
	if err != nil || role != RoleLearner {
		t.Fatalf("add n2 = %q, %v; want a learner", role, err)
	}
	time.Sleep(5 * n1.cfg.PromoteStable)
	if r := roleIn(t, n1, "n2"); r != RoleLearner {
		t.Fatalf("n2, cut off, is %q; want it still a learner", r)
	}
	publishWithin(t, n1, "h", 50, 5*time.Second)
	n2.net.setCut(false)
	testwait.For(t, "n2 promoted", func() bool { return roleIn(t, n1, "n2") == RoleVoter })
	testwait.For(t, "n2 off the learners", func() bool { return !n1.Node.fsm.learners.has("n2") })
	testwait.For(t, "n2 applies the history", func() bool { return n2.store.Applied() >= n1.store.Applied() })
	msgs, err := n2.store.Read("h", 0, 1000)
	if err != nil || len(msgs) != 51 {
		t.Fatalf("n2 holds %d messages (%v), want 51", len(msgs), err)
	}
	// The learners record is replicated: n2 agrees n2 is no learner.
	testwait.For(t, "n2 sees itself a voter", func() bool { return roleIn(t, n2, "n2") == RoleVoter && !n2.Node.fsm.learners.has("n2") })
}

// TestMembership_NonvoterPromotion: a member added as a non-voter stays
// one; asked to vote it is promoted when caught up, refused with
// ErrNotCaughtUp (through a follower too) when not; a voter named again as
// a non-voter stays a voter.
func TestMembership_NonvoterPromotion(t *testing.T) {
	base := t.TempDir()
	short := func(c *Config) { c.Join = c.NodeID != "n1"; c.PromoteWait = time.Second }
	n1 := startNode(t, "n1", base+"/n1", short)
	testwait.For(t, "n1 leadership", n1.IsLeader)
	n2 := startNode(t, "n2", base+"/n2", short)
	n3 := startNode(t, "n3", base+"/n3", short)
	ctx := context.Background()
	for _, n := range []*testNode{n2, n3} {
		if role, err := n1.AddMember(ctx, n.ID(), n.addr(), true); err != nil || role != RoleNonvoter {
			t.Fatalf("add %s as a non-voter = %q, %v", n.ID(), role, err)
		}
	}
	publishWithin(t, n1, "p", 0, 5*time.Second)
	time.Sleep(5 * n1.cfg.PromoteStable)
	if r := roleIn(t, n1, "n2"); r != RoleNonvoter {
		t.Fatalf("n2 is %q; a non-voter must never be promoted by itself", r)
	}
	if role, err := n1.AddMember(ctx, "n2", n2.addr(), false); err != nil || role != RoleVoter {
		t.Fatalf("promote n2 = %q, %v; want voter", role, err)
	}
	// n3 cannot hear the leader: asked through the follower n2, refused.
	n3.net.setCut(true)
	testwait.For(t, "n2 knows the leader", func() bool { id, _ := n2.Leader(); return id == "n1" })
	testwait.For(t, "n1 sees n3 fall behind", func() bool {
		conf, _, _ := n1.configuration()
		s, _ := findServer(conf, "n3")
		return n1.caughtUp(ctx, s) != nil
	})
	_, err := n2.AddMember(ctx, "n3", n3.addr(), false)
	var me *MembershipError
	if !errors.Is(err, ErrNotCaughtUp) || !errors.As(err, &me) || !strings.Contains(me.Reason, "caught up") {
		t.Fatalf("promoting the cut-off n3 through n2: err = %v; want ErrNotCaughtUp with its reason", err)
	}
	t.Logf("refusal: %v", err)
	if r := roleIn(t, n1, "n3"); r != RoleNonvoter {
		t.Fatalf("n3 is %q after a refused promotion", r)
	}
	// A voter named again as a non-voter (a promoted node restarted with
	// --join --nonvoter) stays a voter.
	if role, err := n1.AddMember(ctx, "n2", n2.addr(), true); err != nil || role != RoleVoter {
		t.Fatalf("naming the voter n2 a non-voter = %q, %v; want it left a voter", role, err)
	}
}

// TestMembership_RemoveRefusedWithoutQuorum: in three voters with n3 cut
// off, removing n2 would leave n1 and the silent n3, one answering of two:
// refused with ErrNoQuorum (asked through a follower too). Removing n3
// leaves n1 and n2, both answering: allowed, and the cluster commits.
// Removing the last voter is refused.
func TestMembership_RemoveRefusedWithoutQuorum(t *testing.T) {
	nodes := startCluster(t, t.TempDir(), nil)
	leader, followers := leaderOf(t, nodes)
	live, cut := followers[0], followers[1]
	cut.net.setCut(true)
	ctx := context.Background()
	testwait.For(t, "the leader sees "+cut.ID()+" gone", func() bool {
		conf, _, _ := leader.configuration()
		s, _ := findServer(conf, cut.ID())
		_, err := leader.following(ctx, s)
		return err != nil
	})
	err := live.RemoveMember(ctx, live.ID())
	var me *MembershipError
	if !errors.Is(err, ErrNoQuorum) || !errors.As(err, &me) || !strings.Contains(me.Reason, "2 voters, of which 1 answer") {
		t.Fatalf("removing the live %s with %s cut off: err = %v; want ErrNoQuorum naming 2 voters and 1 answering", live.ID(), cut.ID(), err)
	}
	t.Logf("refusal: %v", err)
	if r := roleIn(t, leader, live.ID()); r != RoleVoter {
		t.Fatalf("%s is %q after a refused removal", live.ID(), r)
	}
	if err := leader.RemoveMember(ctx, cut.ID()); err != nil {
		t.Fatalf("removing the cut-off %s: %v", cut.ID(), err)
	}
	publishWithin(t, leader, "q", 0, 10*time.Second)
	// A single voter left may not remove itself.
	if err := leader.RemoveMember(ctx, live.ID()); err != nil {
		t.Fatalf("removing %s with %s answering: %v", live.ID(), leader.ID(), err)
	}
	if err := leader.RemoveMember(ctx, leader.ID()); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("removing the last voter: err = %v; want ErrNoQuorum", err)
	}
	publishWithin(t, leader, "q", 1, 10*time.Second)
}

// TestMembership_ForwardedRefusalKeepsOnlyTheReason: a refusal sent back
// to the node that forwarded the change carries the MembershipError's
// Reason, the sentence built from numbers only, not the wrapped error's
// text: promoteNow wraps its conflict as "promote <member ID>: …", and the
// frontend shows Reason to the client. The reply used to carry err.Error(),
// so a forwarded conflict echoed the requested ID; asked on the leader it
// did not.
func TestMembership_ForwardedRefusalKeepsOnlyTheReason(t *testing.T) {
	const reason = "the member was removed while waiting for it to catch up"
	local := fmt.Errorf("promote %s: %w", "<requested-id>", &MembershipError{Err: ErrMemberConflict, Reason: reason})
	var reply MemberReply
	if err := toReply("", local, &reply); err != nil {
		t.Fatalf("toReply(%v) = %v; want the refusal in the reply", local, err)
	}
	_, err := fromReply(&reply)
	var me *MembershipError
	if !errors.Is(err, ErrMemberConflict) || !errors.As(err, &me) {
		t.Fatalf("forwarded refusal = %v; want a *MembershipError for ErrMemberConflict", err)
	}
	if me.Reason != reason {
		t.Fatalf("forwarded reason = %q; want %q, as the leader's own caller sees it", me.Reason, reason)
	}
	// A refusal that is no MembershipError travels as its sentinel alone.
	reply = MemberReply{}
	if err := toReply("", fmt.Errorf("add %s: %w", "<requested-id>", ErrNotLeaderForAdmin), &reply); err != nil {
		t.Fatal(err)
	}
	if _, err := fromReply(&reply); err != ErrNotLeaderForAdmin {
		t.Fatalf("forwarded not-leader = %v; want ErrNotLeaderForAdmin alone", err)
	}
}

// TestMembership_VoterAddedAgainAppendsNothing: a voter added again at the
// same address (every restart of a node started with --join asks this) is
// answered voter without a configuration entry, which would change nothing
// yet need a quorum to commit.
func TestMembership_VoterAddedAgainAppendsNothing(t *testing.T) {
	n := startNode(t, "n1", t.TempDir(), nil)
	testwait.For(t, "leadership", n.IsLeader)
	ctx := context.Background()
	// The barrier commits the new leader's own entries first.
	if err := n.raft.Barrier(30 * time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	before := n.raft.LastIndex()
	if role, err := n.AddMember(ctx, "n1", n.addr(), false); err != nil || role != RoleVoter {
		t.Fatalf("adding the voter n1 again = %q, %v; want voter", role, err)
	}
	if after := n.raft.LastIndex(); after != before {
		t.Fatalf("adding the voter n1 again at its address appended %d Raft entries; want none", after-before)
	}
}

// TestMembership_NonvoterAddedAgainAppendsNothing: a learner or a
// permanent non-voter added again in the same role at the same address is
// answered its role without a configuration entry.
func TestMembership_NonvoterAddedAgainAppendsNothing(t *testing.T) {
	n := startNode(t, "n1", t.TempDir(), nil)
	testwait.For(t, "leadership", n.IsLeader)
	ctx := context.Background()
	for _, m := range []struct {
		id, role string
		nonVoter bool
	}{{"edge", RoleNonvoter, true}, {"learner", RoleLearner, false}} {
		addr := freeAddr(t) // answers nowhere: the learner stays one
		if role, err := n.AddMember(ctx, m.id, addr, m.nonVoter); err != nil || role != m.role {
			t.Fatalf("adding %s = %q, %v; want %s", m.id, role, err, m.role)
		}
		if err := n.raft.Barrier(30 * time.Second).Error(); err != nil {
			t.Fatal(err)
		}
		before := n.raft.LastIndex()
		if role, err := n.AddMember(ctx, m.id, addr, m.nonVoter); err != nil || role != m.role {
			t.Fatalf("adding %s again = %q, %v; want %s", m.id, role, err, m.role)
		}
		if after := n.raft.LastIndex(); after != before {
			t.Fatalf("adding the %s %s again at its address appended %d Raft entries; want none", m.role, m.id, after-before)
		}
	}
}
