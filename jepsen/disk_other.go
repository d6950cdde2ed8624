//go:build !linux

package jepsen

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pushflo/pushflo/jepsen/faultfs"
)

type diskFS interface {
	PowerCut() (int64, error)
	SetFailSync(on bool)
	SetFailWrite(on bool)
	SetDelay(d time.Duration)
	Stats() faultfs.Stats
	Close() error
}

func mountFaultFS(n *Node, logger *slog.Logger) (diskFS, error) {
	return nil, errors.New("faultfs exists only on Linux")
}

func cleanStaleFaultFS(logger *slog.Logger) {}

func diskSupported(ctx context.Context) error { return errors.New("faultfs exists only on Linux") }
