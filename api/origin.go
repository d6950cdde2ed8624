package api

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
)

// ParseAllowedOrigins parses --allowed-origins: "*" (any origin, the
// default), or a comma-separated list of origins, scheme://host[:port],
// where the host may start with "*." for any subdomain
// (https://*.example.com). It reports every entry that is not one.
func ParseAllowedOrigins(list string) ([]string, error) {
	var out, bad []string
	for _, o := range strings.Split(list, ",") {
		o = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
		switch {
		case o == "":
			continue
		case o == "*":
			out = append(out, o)
			continue
		}
		u, err := url.Parse(strings.Replace(o, "*.", "wildcard.", 1))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			bad = append(bad, fmt.Sprintf("%q", truncateString(o, 64)))
			continue
		}
		out = append(out, o)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: not an origin; write scheme://host[:port] (https://app.example.com, https://*.example.com) or *", strings.Join(bad, ", "))
	}
	return out, nil
}

// originPolicy is what New derives once from Config for originAllowed
// and cors.
type originPolicy struct {
	// any is whether every origin is allowed (AllowedOrigins empty or
	// holding "*").
	any bool
	// public is PublicURL's origin, lower-case scheme://host[:port]; empty
	// when PublicURL has no host.
	public string
}

func newOriginPolicy(cfg *Config) originPolicy {
	p := originPolicy{any: len(cfg.AllowedOrigins) == 0 || slices.Contains(cfg.AllowedOrigins, "*")}
	if pu, err := url.Parse(cfg.PublicURL); err == nil && pu.Host != "" {
		p.public = strings.ToLower(pu.Scheme + "://" + pu.Host)
	}
	return p
}

// originAllowed reports whether a browser page of the request's Origin may
// use this server: any when every origin is allowed; else one listed, or
// the server's own (the Origin's host is the request's Host, or the
// Origin is PublicURL's, as for the console at /console). A request without Origin is not from a browser
// page's script, and is allowed: Origin protects browser users, and any
// other client can send whatever Origin it likes.
func (s *Server) originAllowed(ctx *fasthttp.RequestCtx) bool {
	origin := string(ctx.Request.Header.Peek("Origin"))
	if origin == "" || s.origins.any {
		return true
	}
	origin = strings.ToLower(origin)
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, string(ctx.Host())) {
		return true
	}
	if s.origins.public != "" && origin == s.origins.public {
		return true // behind a proxy that rewrites Host, the public URL is the server's own origin
	}
	for _, o := range s.cfg.AllowedOrigins {
		if o == origin {
			return true
		}
		if pre, suf, ok := strings.Cut(o, "://*."); ok && strings.HasPrefix(origin, pre+"://") && strings.HasSuffix(origin, "."+suf) {
			return true
		}
	}
	return false
}

// errOriginRefused answers a WebSocket or SSE handshake from a page whose
// origin is not allowed; the origin is not echoed.
var errOriginRefused = errorf(CodeForbidden, "the page's origin may not open streams on this server; its --allowed-origins does not list it")
