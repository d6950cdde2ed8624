//go:build !linux

package jepsen

import (
	"context"
	"errors"
	"log/slog"
)

func mountFaultFS(n *Node, logger *slog.Logger) (diskFS, error) {
	return nil, errors.New("faultfs exists only on Linux")
}

func cleanStaleFaultFS(logger *slog.Logger) {}

func diskSupported(ctx context.Context) error { return errors.New("faultfs exists only on Linux") }
