package raftnode

import "github.com/hashicorp/raft"

// testHooks let this package's tests inject faults at the node's
// boundaries: the network under Raft and the FSM under it. Production code
// never sets them (Config.hooks is unexported), so the wrapping below is
// the identity outside tests.
type testHooks struct {
	// stream wraps the stream layer Raft's transport uses, e.g. to cut the
	// node off from its peers.
	stream func(raft.StreamLayer) raft.StreamLayer
	// fsm wraps the FSM, e.g. to hold back applying committed entries.
	fsm func(raft.BatchingFSM) raft.BatchingFSM
}

func (h *testHooks) wrapStream(s raft.StreamLayer) raft.StreamLayer {
	if h.stream == nil {
		return s
	}
	return h.stream(s)
}

func (h *testHooks) wrapFSM(f raft.BatchingFSM) raft.BatchingFSM {
	if h.fsm == nil {
		return f
	}
	return h.fsm(f)
}
