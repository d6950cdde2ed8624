//go:build !linux

package testnode

import (
	"errors"
	"os"
)

var errNoReusePort = errors.New("the client's test nodes need Linux (SO_REUSEPORT port reservation)")

func setReusePort(int) error { return errNoReusePort }

func reserve() (*os.File, string, error) { return nil, "", errNoReusePort }
