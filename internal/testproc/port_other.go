//go:build !(linux || darwin || freebsd)

package testproc

import (
	"errors"
	"os"
)

func reserve(host string) (*os.File, string, error) {
	return nil, "", errors.New("reserving ports needs SO_REUSEPORT (Linux, macOS or FreeBSD)")
}

func setReusePort(fd uintptr) error { return errors.New("no SO_REUSEPORT on this system") }
