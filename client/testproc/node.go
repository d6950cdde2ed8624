//go:build !windows

package testproc

import (
	"errors"
	"path/filepath"
	"strings"
)

// Keys are the API keys a node is started with.
type Keys struct{ Publish, Secret, Mgmt string }

// Node is one `pushflo serve` process on loopback whose HTTP and Raft
// ports are reserved (see the package doc).
type Node struct {
	*Proc
	ID         string
	HTTP, Raft *Port
}

// NodeConfig describes a node; see NewNode.
type NodeConfig struct {
	// Bin is the pushflo binary; ID the node ID ("n1").
	Bin, ID string
	// DataDir is --data-dir; LogPath the log file (default
	// DataDir + ".log").
	DataDir, LogPath string
	Keys             Keys
	// ClusterSecret, when set, is --cluster-secret.
	ClusterSecret string
	// Args are appended to the serve command line.
	Args []string
}

// NewNode reserves a node's ports on 127.0.0.1 and builds its serve
// command line; Start runs it. Close when done.
func NewNode(cfg NodeConfig) (*Node, error) {
	ports, err := ReservePorts("127.0.0.1", 2)
	if err != nil {
		return nil, err
	}
	if cfg.LogPath == "" {
		cfg.LogPath = filepath.Clean(cfg.DataDir) + ".log"
	}
	n := &Node{ID: cfg.ID, HTTP: ports[0], Raft: ports[1]}
	args := []string{"serve", "--node-id", cfg.ID, "--http-addr", n.HTTP.Addr, "--raft-addr", n.Raft.Addr,
		"--data-dir", cfg.DataDir, "--publish-key", cfg.Keys.Publish, "--secret-key", cfg.Keys.Secret, "--mgmt-key", cfg.Keys.Mgmt}
	if cfg.ClusterSecret != "" {
		args = append(args, "--cluster-secret", cfg.ClusterSecret)
	}
	n.Proc = &Proc{Name: cfg.ID, Bin: cfg.Bin, Args: append(args, cfg.Args...), LogPath: cfg.LogPath,
		Sockets: []Socket{{Name: "http", Port: n.HTTP}, {Name: "raft", Port: n.Raft}}}
	return n, nil
}

// URL is the node's base URL.
func (n *Node) URL() string { return "http://" + n.HTTP.Addr }

// Close kills the process and gives its ports back.
func (n *Node) Close() error {
	return errors.Join(n.Kill(), n.HTTP.Close(), n.Raft.Close())
}

// BootstrapPeers returns the --bootstrap-peers flag naming nodes.
func BootstrapPeers(nodes []*Node) []string {
	var peers []string
	for _, n := range nodes {
		peers = append(peers, n.ID+"="+n.Raft.Addr)
	}
	return []string{"--bootstrap-peers", strings.Join(peers, ",")}
}
