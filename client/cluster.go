package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// ClusterStatus is the cluster as one node sees it [ext].
type ClusterStatus struct {
	// Leader is the leader's node ID, empty when none is known.
	Leader  string         `json:"leader"`
	Members []MemberStatus `json:"members"`
}

// MemberStatus is one member of the cluster. Error says why the fields
// the answering node could not learn from that member are zero.
type MemberStatus struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	HTTPAddr string `json:"httpAddr"`
	State    string `json:"state"`
	Suffrage string `json:"suffrage"`
	// Role is "voter", "learner" (a non-voter the leader promotes once it
	// has caught up) or "nonvoter" (a non-voter for good).
	Role        string `json:"role"`
	Leader      string `json:"leader"`
	Term        uint64 `json:"term"`
	LastIndex   uint64 `json:"lastIndex"`
	CommitIndex uint64 `json:"commitIndex"`
	Applied     uint64 `json:"applied"`
	// Lag is how many Raft entries the member's store trails the leader's.
	Lag   uint64 `json:"lag"`
	Error string `json:"error"`
}

// Member names a node to add to the cluster.
type Member struct {
	// ID is the node's --node-id.
	ID string `json:"nodeId"`
	// RaftAddr is the Raft address the other nodes dial.
	RaftAddr string `json:"raftAddr"`
	// NonVoter adds the node as a member that replicates and serves
	// subscribers but never votes. Without it a new member joins as a
	// learner and the leader makes it a voter once it has caught up; a
	// non-voter added again without it is made a voter now if it has
	// caught up (else 409 NOT_CAUGHT_UP).
	NonVoter bool `json:"nonvoter"`
}

// ClusterStatus asks the nodes in turn for the cluster's members, leader
// and lag, with MgmtKey (or SecretKey).
func (c *Client) ClusterStatus(ctx context.Context) (ClusterStatus, error) {
	key := c.cfg.MgmtKey
	if key == "" {
		key = c.cfg.SecretKey
	}
	st, _, err := get[ClusterStatus](ctx, c, "cluster status", "/api/v1/cluster", nil, key)
	return st, err
}

// AddMember asks the cluster, through the nodes in turn, to add m, with
// MgmtKey. Adding a member that is already there with the same address
// changes nothing, so an unknown outcome is retried on the next node. It
// makes one pass over the nodes: while the cluster has no leader it fails
// with a 503 the caller may retry.
func (c *Client) AddMember(ctx context.Context, m Member) error {
	if m.ID == "" || m.RaftAddr == "" {
		return &RequestError{Op: "add member", NotApplied: true, Err: fmt.Errorf("member ID (%q) and RaftAddr (%q) are both required", m.ID, m.RaftAddr)}
	}
	body, err := json.Marshal(m)
	if err != nil {
		return &RequestError{Op: "add member", NotApplied: true, Err: err}
	}
	_, err = c.call(ctx, "add member", http.MethodPost, "/api/v1/cluster/members", nil, body, bearer(c.cfg.MgmtKey), true)
	return err
}

// RemoveMember asks the cluster, through the nodes in turn, to remove the
// node with ID id, with MgmtKey.
func (c *Client) RemoveMember(ctx context.Context, id string) error {
	if id == "" {
		return &RequestError{Op: "remove member", NotApplied: true, Err: fmt.Errorf("member ID is empty")}
	}
	_, err := c.call(ctx, "remove member", http.MethodDelete, "/api/v1/cluster/members/"+url.PathEscape(id), nil, nil, bearer(c.cfg.MgmtKey), true)
	return err
}
