//go:build !linux

package jepsen

import (
	"context"
	"errors"
	"log/slog"
	"net"
)

// netnsNetwork exists only on Linux.
type netnsNetwork struct{ proxyNetwork }

func openNetns(ctx context.Context, nodes []*Node, logger *slog.Logger) (*netnsNetwork, error) {
	return nil, errors.New("network namespaces exist only on Linux")
}

// socketOwner cannot tell the owner of a socket outside Linux: every
// connection is anonymous and per-source faults do not apply.
func socketOwner(c net.Conn, pids map[int]string) string { return "" }

func ensureNft(ctx context.Context, logger *slog.Logger) error {
	return errors.New("nftables is used only on Linux")
}

func inNetns(ns string, fn func() error) error {
	return errors.New("network namespaces exist only on Linux")
}
