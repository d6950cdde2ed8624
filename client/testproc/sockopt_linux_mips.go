//go:build linux && (mips || mipsle || mips64 || mips64le)

package testproc

// soReusePort is SO_REUSEPORT on MIPS (see sockopt_linux.go).
const soReusePort = 0x200
