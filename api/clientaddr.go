package api

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes (a
// bare address is its own /32 or /128), as --trusted-proxies takes it, and
// reports every entry that is not one.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		bad = append(bad, fmt.Sprintf("%q", truncateString(f, 64)))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: not a CIDR prefix (10.0.0.0/8, fd00::/8) or an address", strings.Join(bad, ", "))
	}
	return out, nil
}

// trusted reports whether a is one of the configured trusted proxies.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address a request comes from, for per-address limits
// and request logs. It is the TCP peer's address unless the peer is a
// trusted proxy (Config.TrustedProxies); then X-Forwarded-For is walked
// from the right (each proxy appends the address it received the request
// from), skipping trusted proxies, and the first address that is not one
// is the client. If every hop is trusted, the left-most is taken; an entry
// that is not an address ends the walk at the last hop read. A peer that
// is not a trusted proxy cannot choose its address by sending the header.
func (s *Server) clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	client := peerAddr(ctx.RemoteAddr())
	if len(s.cfg.TrustedProxies) == 0 || !s.trusted(client) {
		return client
	}
	hops := bytes.Join(ctx.Request.Header.PeekAll("X-Forwarded-For"), []byte{','})
	for len(hops) > 0 {
		var hop []byte
		if i := bytes.LastIndexByte(hops, ','); i >= 0 {
			hops, hop = hops[:i], hops[i+1:]
		} else {
			hops, hop = nil, hops
		}
		hop = bytes.TrimSpace(hop)
		if len(hop) == 0 {
			continue
		}
		a, ok := parseHop(string(hop))
		if !ok {
			return client
		}
		client = a
		if !s.trusted(a) {
			return a
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, or an address
// with a port ("192.0.2.1:4711", "[2001:db8::1]:4711"), as some proxies
// send.
func parseHop(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// peerAddr is a connection's remote address as a netip.Addr (IPv4-mapped
// IPv6 addresses unmapped); the zero Addr if it has none.
func peerAddr(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
