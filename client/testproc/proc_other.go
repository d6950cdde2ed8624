//go:build !linux && !windows

package testproc

import "syscall"

func killWithParent(*syscall.SysProcAttr) {}
