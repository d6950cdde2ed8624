//go:build linux && !mips && !mipsle && !mips64 && !mips64le

package testproc

// soReusePort is SO_REUSEPORT (the syscall package does not name it; the
// client module keeps golang.org/x/sys out of its requirements).
const soReusePort = 0xf
