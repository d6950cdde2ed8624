package raftnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Member roles, as cluster status reports them (NodeStatus.Role) and
// AddMember returns them.
const (
	// RoleVoter is a member that votes and counts towards the quorum.
	RoleVoter = "voter"
	// RoleLearner is a non-voter the leader promotes to voter once it has
	// caught up: every member added without nonVoter starts as one.
	RoleLearner = "learner"
	// RoleNonvoter is a non-voter for good (a read-only edge node).
	RoleNonvoter = "nonvoter"
)

// Refusals of a membership change. Nothing was applied; errors.Is tells
// them apart, and the *MembershipError carrying them says why in a
// sentence built from numbers only.
var (
	// ErrNoQuorum is returned when, after the change, fewer voters than a
	// majority of the new configuration would answer the leader now: the
	// cluster could then elect no leader.
	ErrNoQuorum = errors.New("the change would leave no quorum")
	// ErrNotCaughtUp is returned when a non-voter asked to become a voter
	// has not caught up with the leader.
	ErrNotCaughtUp = errors.New("the member has not caught up with the leader")
	// ErrMemberConflict is returned when the member changed under the
	// request (removed while it waited to promote it).
	ErrMemberConflict = errors.New("the member changed during the request")
)

// MembershipError is a refused membership change: Err is one of
// ErrNoQuorum, ErrNotCaughtUp or ErrMemberConflict, Reason a sentence
// saying why and what would be allowed. It holds no request bytes, so a
// frontend may show it.
type MembershipError struct {
	Err    error
	Reason string
}

func (e *MembershipError) Error() string { return e.Reason }
func (e *MembershipError) Unwrap() error { return e.Err }

// refusalKinds names the refusals on the wire between nodes.
var refusalKinds = map[string]error{
	"no-quorum":     ErrNoQuorum,
	"not-caught-up": ErrNotCaughtUp,
	"conflict":      ErrMemberConflict,
	"not-leader":    ErrNotLeaderForAdmin,
}

// MemberReply answers a forwarded membership change: the member's role
// after it, or the refusal (a key of refusalKinds) and its reason.
type MemberReply struct {
	Role    string
	Refused string
	Reason  string
}

// toReply puts a local outcome into a reply; other errors stay errors. A
// refusal carries the MembershipError's Reason only, never the text of an
// error wrapping it (which may name the member asked for).
func toReply(role string, err error, reply *MemberReply) error {
	reply.Role = role
	if err == nil {
		return nil
	}
	for k, sentinel := range refusalKinds {
		if errors.Is(err, sentinel) {
			reply.Refused = k
			if me := (*MembershipError)(nil); errors.As(err, &me) {
				reply.Reason = me.Reason
			}
			return nil
		}
	}
	return err
}

// fromReply turns a reply back into the leader's outcome.
func fromReply(reply *MemberReply) (string, error) {
	if reply.Refused == "" {
		return reply.Role, nil
	}
	sentinel, ok := refusalKinds[reply.Refused]
	if !ok {
		return "", fmt.Errorf("membership change refused for a reason this node does not know (%d bytes)", len(reply.Refused))
	}
	if reply.Reason == "" {
		return "", sentinel
	}
	return "", &MembershipError{Err: sentinel, Reason: reply.Reason}
}

// learnersRecord is the log store record that lists the learners: the
// members the leader will promote. It is replicated through Raft
// (memberCommand), so a new leader carries on with the promotions of the
// last one, and a non-voter absent from it stays a non-voter.
const learnersRecord = "raftnode/learners"

// memberCommand adds an ID to the learners (Learner true) or takes it out.
type memberCommand struct {
	ID      string
	Learner bool
}

// learners is the FSM's copy of the learners record; the FSM goroutine
// writes it, any goroutine reads it.
type learners struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (l *learners) has(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ids[id]
}

// set records id as a learner or not and returns the sorted list.
func (l *learners) set(id string, learner bool) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if learner {
		l.ids[id] = true
	} else {
		delete(l.ids, id)
	}
	out := make([]string, 0, len(l.ids))
	for k := range l.ids {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// load replaces the set with the store's record.
func (f *fsm) loadLearners() error {
	v, ok, err := f.store.Record(learnersRecord)
	if err != nil {
		return fmt.Errorf("load learners: %w", err)
	}
	var ids []string
	if ok {
		if err := json.Unmarshal(v, &ids); err != nil {
			return fmt.Errorf("load learners: %w", err)
		}
	}
	f.learners.mu.Lock()
	defer f.learners.mu.Unlock()
	f.learners.ids = make(map[string]bool, len(ids))
	for _, id := range ids {
		f.learners.ids[id] = true
	}
	return nil
}

// roleOf names a member's role.
func (n *Node) roleOf(s raft.Server) string {
	switch {
	case s.Suffrage == raft.Voter:
		return RoleVoter
	case n.fsm.learners.has(string(s.ID)):
		return RoleLearner
	}
	return RoleNonvoter
}

// AddMember adds a member through the leader and returns its role after
// the change. A new member joins as a learner (as a permanent non-voter
// with nonVoter) and the leader promotes it to voter once it has caught
// up, so a member that never answers cannot cost the cluster its quorum.
// Asked for a voter, a permanent non-voter is promoted now if it has
// caught up (the call waits up to PromoteWait for that) and the cluster
// keeps a quorum, else refused with ErrNotCaughtUp or ErrNoQuorum. Adding
// a member again with the same role changes nothing (a new address
// replaces the old one); a voter asked to be a non-voter stays a voter.
func (n *Node) AddMember(ctx context.Context, id, addr string, nonVoter bool) (string, error) {
	args := &MemberArgs{ID: id, Addr: addr, NonVoter: nonVoter}
	return n.onLeader(ctx, "Node.AddMember", args, func() (string, error) { return n.addMemberLocal(ctx, args) })
}

// RemoveMember removes a member through the leader. Removing a voter is
// refused with ErrNoQuorum unless a majority of the voters left answer the
// leader now; removing a non-voter, or an ID that is not a member, always
// goes through.
func (n *Node) RemoveMember(ctx context.Context, id string) error {
	args := &MemberArgs{ID: id}
	_, err := n.onLeader(ctx, "Node.RemoveMember", args, func() (string, error) { return "", n.removeMemberLocal(ctx, id) })
	return err
}

// onLeader runs local on this node if it leads, else calls method on the
// leader with args.
func (n *Node) onLeader(ctx context.Context, method string, args *MemberArgs, local func() (string, error)) (string, error) {
	leader, addr, err := n.waitLeader(ctx)
	if err != nil {
		return "", err
	}
	if leader == n.cfg.NodeID {
		return local()
	}
	var reply MemberReply
	if _, err := n.fwd.call(ctx, addr, method, args, &reply, true); err != nil {
		return "", err
	}
	return fromReply(&reply)
}

// configuration returns the latest configuration and its index.
func (n *Node) configuration() (raft.Configuration, uint64, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Configuration{}, 0, fmt.Errorf("read configuration: %w", err)
	}
	return f.Configuration(), f.Index(), nil
}

func findServer(c raft.Configuration, id string) (raft.Server, bool) {
	for _, s := range c.Servers {
		if string(s.ID) == id {
			return s, true
		}
	}
	return raft.Server{}, false
}

// setLearner commits a memberCommand.
func (n *Node) setLearner(id string, learner bool) error {
	data, err := encodeJSON(kindMember, &memberCommand{ID: id, Learner: learner})
	if err != nil {
		return err
	}
	if err := n.raft.Apply(data, n.cfg.ApplyTimeout).Error(); err != nil {
		return fmt.Errorf("record learner: %w", classify(err))
	}
	return nil
}

func (n *Node) addMemberLocal(ctx context.Context, a *MemberArgs) (string, error) {
	if !n.IsLeader() {
		return "", ErrNotLeaderForAdmin
	}
	conf, confIndex, err := n.configuration()
	if err != nil {
		return "", err
	}
	cur, exists := findServer(conf, a.ID)
	id, addr := raft.ServerID(a.ID), raft.ServerAddress(a.Addr)
	switch {
	case exists && cur.Suffrage == raft.Voter && a.NonVoter:
		// A voter stays one (a node restarted with --join --nonvoter after
		// a promotion asks this): to make it a non-voter, remove it and add
		// it again.
		return RoleVoter, nil
	case exists && cur.Suffrage == raft.Voter:
		if cur.Address == addr {
			// Nothing to change (a voter restarted with --join asks this):
			// a configuration entry would still need a quorum to commit.
			return RoleVoter, nil
		}
		// A voter at a new address answers nowhere until it moves: count
		// it unreachable.
		if err := n.checkQuorum(ctx, voters(conf, nil, ""), map[raft.ServerID]bool{id: false}); err != nil {
			return "", err
		}
		if err := n.raft.AddVoter(id, addr, confIndex, n.cfg.ApplyTimeout).Error(); err != nil {
			return "", fmt.Errorf("update voter %s: %w", a.ID, err)
		}
		return RoleVoter, nil
	case a.NonVoter:
		// A permanent non-voter: never promoted.
		return n.addNonvoter(a, cur, exists, RoleNonvoter)
	case exists && !n.fsm.learners.has(a.ID):
		// A permanent non-voter asked to vote: promote it now, or refuse.
		if cur.Address != addr {
			if err := n.raft.AddNonvoter(id, addr, 0, n.cfg.ApplyTimeout).Error(); err != nil {
				return "", fmt.Errorf("update non-voter %s: %w", a.ID, err)
			}
		}
		return n.promoteNow(ctx, a.ID)
	}
	// A new member, or a learner added again: a learner, recorded before it
	// is added so that no leader ever sees it as a permanent non-voter.
	return n.addNonvoter(a, cur, exists, RoleLearner)
}

// addNonvoter adds (or updates) a as a Raft non-voter in role RoleLearner
// (promoted once it has caught up) or RoleNonvoter (never promoted); cur
// is the member as the configuration holds it, when it exists (then a
// non-voter). The learner record is set or cleared first, so that no
// leader sees the non-voter in the wrong role; a non-voter already at
// a.Addr needs no configuration entry.
func (n *Node) addNonvoter(a *MemberArgs, cur raft.Server, exists bool, role string) (string, error) {
	learner := role == RoleLearner
	if n.fsm.learners.has(a.ID) != learner {
		if err := n.setLearner(a.ID, learner); err != nil {
			return "", err
		}
	}
	if exists && cur.Address == raft.ServerAddress(a.Addr) {
		return role, nil
	}
	if err := n.raft.AddNonvoter(raft.ServerID(a.ID), raft.ServerAddress(a.Addr), 0, n.cfg.ApplyTimeout).Error(); err != nil {
		return "", fmt.Errorf("add %s %s: %w", role, a.ID, err)
	}
	if !exists {
		if learner {
			n.logger.Info("member added as a learner; it becomes a voter once it has caught up", "member", a.ID, "addr", a.Addr)
		} else {
			n.logger.Info("member added as a non-voter", "member", a.ID, "addr", a.Addr)
		}
	}
	return role, nil
}

// promoteNow makes the non-voter id a voter once it has caught up,
// waiting up to PromoteWait (and ctx) for that.
func (n *Node) promoteNow(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.PromoteWait)
	defer cancel()
	var why error
	for {
		conf, confIndex, err := n.configuration()
		if err != nil {
			return "", err
		}
		s, ok := findServer(conf, id)
		if !ok {
			return "", fmt.Errorf("promote %s: %w", id, &MembershipError{Err: ErrMemberConflict, Reason: "the member was removed while waiting for it to catch up"})
		}
		if s.Suffrage == raft.Voter {
			return RoleVoter, nil
		}
		if why = n.caughtUp(ctx, s); why == nil {
			if err := n.promote(ctx, s, conf, confIndex); err != nil {
				return "", err
			}
			return RoleVoter, nil
		}
		select {
		case <-ctx.Done():
			return "", &MembershipError{Err: ErrNotCaughtUp, Reason: fmt.Sprintf("the member has not caught up with the leader within %s: %s; it stays a non-voter (try again once cluster status shows it caught up)", n.cfg.PromoteWait, why)}
		case <-n.ctx.Done():
			return "", ErrClosed
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// promote makes the caught-up non-voter s a voter, unless the new
// configuration would lack a quorum, and takes it off the learners.
func (n *Node) promote(ctx context.Context, s raft.Server, conf raft.Configuration, confIndex uint64) error {
	if err := n.checkQuorum(ctx, voters(conf, &s, ""), map[raft.ServerID]bool{s.ID: true}); err != nil {
		return err
	}
	if err := n.raft.AddVoter(s.ID, s.Address, confIndex, n.cfg.ApplyTimeout).Error(); err != nil {
		return fmt.Errorf("promote %s: %w", s.ID, err)
	}
	n.logger.Info("member promoted to voter", "member", string(s.ID))
	if n.fsm.learners.has(string(s.ID)) {
		// Left behind, the record is cleared by the next leader's promoter.
		if err := n.setLearner(string(s.ID), false); err != nil {
			n.logger.Warn("promoted member still recorded as a learner", "member", string(s.ID), "err", err)
		}
	}
	return nil
}

func (n *Node) removeMemberLocal(ctx context.Context, id string) error {
	if !n.IsLeader() {
		return ErrNotLeaderForAdmin
	}
	conf, confIndex, err := n.configuration()
	if err != nil {
		return err
	}
	s, exists := findServer(conf, id)
	if exists && s.Suffrage == raft.Voter {
		if err := n.checkQuorum(ctx, voters(conf, nil, s.ID), nil); err != nil {
			return err
		}
	}
	if exists {
		if err := n.raft.RemoveServer(raft.ServerID(id), confIndex, n.cfg.ApplyTimeout).Error(); err != nil {
			return fmt.Errorf("remove member %s: %w", id, err)
		}
		n.logger.Info("member removed", "member", id)
	}
	if n.fsm.learners.has(id) && n.IsLeader() {
		if err := n.setLearner(id, false); err != nil {
			return err
		}
	}
	return nil
}

// voters lists the voters of conf, plus add (when not nil), minus the
// server named drop.
func voters(conf raft.Configuration, add *raft.Server, drop raft.ServerID) []raft.Server {
	var out []raft.Server
	for _, s := range conf.Servers {
		if s.Suffrage == raft.Voter && s.ID != drop {
			out = append(out, s)
		}
	}
	if add != nil {
		out = append(out, *add)
	}
	return out
}

// checkQuorum refuses a change whose configuration would hold the voters
// vs unless a majority of them answer this leader now. known fixes the
// answer for some of them (the member being promoted, a voter moving);
// this node counts as answering when it stays a voter.
func (n *Node) checkQuorum(ctx context.Context, vs []raft.Server, known map[raft.ServerID]bool) error {
	if len(vs) == 0 {
		return &MembershipError{Err: ErrNoQuorum, Reason: "the change would leave the cluster without a voter; at least one must remain"}
	}
	var wg sync.WaitGroup
	answers := make([]bool, len(vs))
	for i, s := range vs {
		if ok, fixed := known[s.ID]; fixed {
			answers[i] = ok
			continue
		}
		if string(s.ID) == n.cfg.NodeID {
			answers[i] = true
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := n.following(ctx, s)
			answers[i] = err == nil
		}()
	}
	wg.Wait()
	reachable := 0
	for _, ok := range answers {
		if ok {
			reachable++
		}
	}
	need := len(vs)/2 + 1
	if reachable < need {
		return &MembershipError{Err: ErrNoQuorum, Reason: fmt.Sprintf(
			"after the change the cluster would have %d voters, of which %d answer the leader now; a majority (%d) must, or no leader could be elected: bring the missing voters back, or remove an unreachable voter first",
			len(vs), reachable, need)}
	}
	return nil
}

// probe asks member s for its status, giving it at most 2 s (cluster
// status and the membership checks both ask this way).
func (n *Node) probe(ctx context.Context, s raft.Server) (NodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var st NodeStatus
	_, err := n.fwd.call(ctx, string(s.Address), "Node.Status", &struct{}{}, &st, false)
	return st, err
}

// contactLimit is how long ago a member may have last heard from the
// leader and still count as answering it.
func (n *Node) contactLimit() time.Duration { return 2 * n.cfg.HeartbeatTimeout }

// following returns member s's status when it answers, follows this node
// in its current term and heard from it lately; else the reason it does
// not.
func (n *Node) following(ctx context.Context, s raft.Server) (NodeStatus, error) {
	st, err := n.probe(ctx, s)
	if err != nil {
		return st, errors.New("it does not answer the leader")
	}
	limit := n.contactLimit()
	if n.heartbeats.failing(raft.ServerID(st.ID), limit) {
		return st, errors.New("the leader's heartbeats to it fail")
	}
	if st.Leader != n.cfg.NodeID || st.Term != n.raft.CurrentTerm() {
		return st, errors.New("it does not follow the current leader")
	}
	if st.LastContactMillis < 0 || time.Duration(st.LastContactMillis)*time.Millisecond > limit {
		return st, fmt.Errorf("it last heard from the leader %d ms ago (at most %d ms allowed)", st.LastContactMillis, limit.Milliseconds())
	}
	return st, nil
}

// caughtUp returns nil when member s follows this leader and its Raft log
// reaches within PromoteMaxLag entries of the commit index; else why not.
func (n *Node) caughtUp(ctx context.Context, s raft.Server) error {
	st, err := n.following(ctx, s)
	if err != nil {
		return err
	}
	if commit := n.raft.CommitIndex(); st.LastIndex+n.cfg.PromoteMaxLag < commit {
		return fmt.Errorf("its log is %d entries behind the leader's commit index (at most %d allowed)", commit-st.LastIndex, n.cfg.PromoteMaxLag)
	}
	return nil
}

// heartbeatWatch remembers, from the leader's Raft observations, when a
// heartbeat to each member last failed: a member the leader cannot reach
// over Raft may still answer a status call on another connection.
type heartbeatWatch struct {
	mu     sync.Mutex
	failed map[raft.ServerID]time.Time // last failure; removed on resume
}

// failing reports whether a heartbeat to id failed within the last window
// and none has succeeded since. Observations may be dropped, so an old
// failure counts for nothing: the member's own last contact then decides.
func (h *heartbeatWatch) failing(id raft.ServerID, window time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.failed[id]
	return ok && time.Since(t) < window
}

// watchHeartbeats records heartbeat failures and recoveries for the
// node's life.
func (n *Node) watchHeartbeats() {
	keep := func(d any) bool {
		switch d.(type) {
		case raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation:
			return true
		}
		return false
	}
	n.observe(64, keep, func(d any) {
		n.heartbeats.mu.Lock()
		defer n.heartbeats.mu.Unlock()
		switch d := d.(type) {
		case raft.FailedHeartbeatObservation:
			n.heartbeats.failed[d.PeerID] = time.Now()
		case raft.ResumedHeartbeatObservation:
			delete(n.heartbeats.failed, d.PeerID)
		}
	})
}

// promoteLoop runs for the node's life: while it leads, every
// HeartbeatTimeout it checks each learner and promotes one that has been
// caught up for PromoteStable (Consul's autopilot works the same way). A
// learner that falls behind or stops answering starts its wait again.
func (n *Node) promoteLoop() {
	t := time.NewTicker(n.cfg.HeartbeatTimeout)
	defer t.Stop()
	since := map[raft.ServerID]time.Time{}
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if !n.IsLeader() {
			clear(since)
			continue
		}
		n.promoteOnce(since)
	}
}

// promoteOnce is one pass of promoteLoop; it makes at most one change.
func (n *Node) promoteOnce(since map[raft.ServerID]time.Time) {
	conf, confIndex, err := n.configuration()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.ApplyTimeout)
	defer cancel()
	seen := map[raft.ServerID]bool{}
	for _, s := range conf.Servers {
		if !n.fsm.learners.has(string(s.ID)) {
			continue
		}
		if s.Suffrage == raft.Voter {
			// Promoted by a leader that stopped before clearing the record.
			if err := n.setLearner(string(s.ID), false); err != nil {
				n.logger.Debug("clearing a promoted learner failed", "member", string(s.ID), "err", err)
			}
			return
		}
		seen[s.ID] = true
		if why := n.caughtUp(ctx, s); why != nil {
			if !since[s.ID].IsZero() {
				n.logger.Info("learner fell behind; its promotion waits", "member", string(s.ID), "reason", why.Error())
			}
			delete(since, s.ID)
			continue
		}
		if since[s.ID].IsZero() {
			since[s.ID] = time.Now()
		}
		if time.Since(since[s.ID]) < n.cfg.PromoteStable {
			continue
		}
		if err := n.promote(ctx, s, conf, confIndex); err != nil {
			n.logger.Warn("promoting a caught-up learner failed; retrying", "member", string(s.ID), "err", err)
			delete(since, s.ID)
		}
		return
	}
	for id := range since {
		if !seen[id] {
			delete(since, id)
		}
	}
}
