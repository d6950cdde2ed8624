//go:build !linux

package jepsen

import (
	"errors"
	"log/slog"
)

func mountFaultFS(n *Node, logger *slog.Logger) (diskFS, error) {
	return nil, errors.New("faultfs exists only on Linux")
}

func cleanStaleFaultFS(logger *slog.Logger) {}

func diskSupported() error { return errors.New("faultfs exists only on Linux") }
