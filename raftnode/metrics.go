package raftnode

import "github.com/prometheus/client_golang/prometheus"

// Collectors returns the node's metrics, for the binary's registry: the
// applied index, leadership, and how far this node's applied index trails
// the commit index it has heard from the leader (a follower's lag).
func (n *Node) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pushflo_raftnode_applied_index", Help: "Last Raft index applied to the log store."},
			func() float64 { return float64(n.store.Applied()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pushflo_raftnode_is_leader", Help: "1 while this node is the Raft leader."},
			func() float64 {
				if n.IsLeader() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pushflo_raftnode_commit_index", Help: "Highest Raft index this node knows to be committed (on a follower, as last heard from the leader)."},
			func() float64 { return float64(n.raft.CommitIndex()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pushflo_raftnode_apply_lag_entries", Help: "Raft entries committed (as this node last heard from the leader) but not yet applied here: how far a follower's subscribers and reads trail the leader."},
			func() float64 {
				c, a := n.raft.CommitIndex(), n.store.Applied()
				if c <= a {
					return 0
				}
				return float64(c - a)
			}),
	}
}
