package testproc

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// reserve binds a socket with SO_REUSEPORT to host:0 without listening.
func reserve(host string) (*os.File, string, error) {
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() {
		return nil, "", fmt.Errorf("reserve needs an IPv4 address, got %q", host)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("socket: %w", err)
	}
	if err := setReusePort(uintptr(fd)); err != nil {
		syscall.Close(fd)
		return nil, "", fmt.Errorf("SO_REUSEPORT: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: ip.As4()}); err != nil {
		syscall.Close(fd)
		return nil, "", fmt.Errorf("bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, "", fmt.Errorf("getsockname: %w", err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	return os.NewFile(uintptr(fd), "reserved port"), net.JoinHostPort(host, fmt.Sprint(port)), nil
}

func setReusePort(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
}
