//go:build linux

package jepsen

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// socketOwner names the node whose process holds the other end of c, a
// connection accepted on loopback, by finding the socket in
// /proc/net/tcp and its inode among each node's open files. It returns ""
// when no node holds it.
func socketOwner(c net.Conn, pids map[int]string) string {
	remote, ok1 := c.RemoteAddr().(*net.TCPAddr)
	local, ok2 := c.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return ""
	}
	inode := tcpInode(remote, local)
	if inode == "" {
		return ""
	}
	want := "socket:[" + inode + "]"
	for pid, id := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && l == want {
				return id
			}
		}
	}
	return ""
}

// tcpInode returns the inode of the IPv4 socket bound to local and
// connected to remote, from the calling thread's view of the network
// namespace (/proc/thread-self/net/tcp: /proc/net follows the main thread).
func tcpInode(local, remote *net.TCPAddr) string {
	f, err := os.Open("/proc/thread-self/net/tcp")
	if err != nil {
		return ""
	}
	defer f.Close()
	enc := func(a *net.TCPAddr) string {
		ip := a.IP.To4()
		if ip == nil {
			return ""
		}
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
	}
	l, r := enc(local), enc(remote)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 9 && fs[1] == l && fs[2] == r {
			if _, err := strconv.Atoi(fs[9]); err == nil {
				return fs[9]
			}
		}
	}
	return ""
}
