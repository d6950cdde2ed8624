//go:build !linux && !windows

package testproc

import (
	"errors"
	"os"
)

func reserve(host string) (*os.File, string, error) {
	return nil, "", errors.New("reserving ports needs Linux (SO_REUSEPORT reservation)")
}

func setReusePort(fd uintptr) error { return errors.New("no SO_REUSEPORT on this system") }
