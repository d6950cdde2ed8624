//go:build !linux

package testproc

import "syscall"

func killWithParent(*syscall.SysProcAttr) {}
