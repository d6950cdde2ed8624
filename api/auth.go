package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/valyala/fasthttp"
)

// Role is what a key may do; higher roles include lower ones.
type Role int

// Roles.
const (
	RoleNone Role = iota
	RolePublish
	RoleSecret
	RoleMgmt
)

func (r Role) String() string {
	return [...]string{"none", "publish", "secret", "management"}[r]
}

// Keys are the three API keys of a deployment; every node of a cluster must
// be given the same ones.
type Keys struct {
	Publish string `json:"publish"` // pub_…
	Secret  string `json:"secret"`  // sec_…
	Mgmt    string `json:"mgmt"`    // mgmt_…
}

// Validate reports every problem with the keys.
func (k Keys) Validate() error {
	var errs []error
	check := func(name, v, prefix string) {
		if !strings.HasPrefix(v, prefix) || len(v) == len(prefix) {
			errs = append(errs, fmt.Errorf("%s key %q must be %q followed by at least one character", name, redact(v), prefix))
		}
	}
	check("publish", k.Publish, "pub_")
	check("secret", k.Secret, "sec_")
	check("management", k.Mgmt, "mgmt_")
	return errors.Join(errs...)
}

// Weak reports whether any key is short enough to guess (under 16
// characters after its prefix); the binary warns about it.
func (k Keys) Weak() bool {
	return len(k.Publish) < 4+16 || len(k.Secret) < 4+16 || len(k.Mgmt) < 5+16
}

// redact shows a key's prefix and length, never the key.
func redact(k string) string {
	if i := strings.IndexByte(k, '_'); i >= 0 {
		return fmt.Sprintf("%s… (%d characters)", k[:i+1], len(k))
	}
	return fmt.Sprintf("… (%d characters)", len(k))
}

// principal is who made a request.
type principal struct {
	role     Role
	clientID string
	// channels, for a connection token, lists extra channels it grants,
	// private ones included; "*" grants all.
	channels []string
	token    bool
	// expires is a token's exp; zero for a key.
	expires time.Time
}

// expired reports whether the principal is a token past its exp.
func (p *principal) expired(now time.Time) bool {
	return p.token && !now.Before(p.expires)
}

// mayRead reports whether the principal may subscribe to a channel.
func (p *principal) mayRead(channel string, private bool) bool {
	if p.role >= RoleSecret || !private {
		return p.role >= RolePublish
	}
	for _, c := range p.channels {
		if c == channel || c == "*" {
			return true
		}
	}
	return false
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// authenticate resolves a key or connection token. It answers nil for an
// unknown one.
func (s *Server) authenticate(cred string) *principal {
	switch {
	case cred == "":
		return nil
	case eq(cred, s.cfg.Keys.Mgmt):
		return &principal{role: RoleMgmt}
	case eq(cred, s.cfg.Keys.Secret):
		return &principal{role: RoleSecret}
	case eq(cred, s.cfg.Keys.Publish):
		return &principal{role: RolePublish}
	}
	if p, err := s.parseToken(cred); err == nil {
		return p
	}
	return nil
}

// bearer returns what follows "Bearer " in the request's Authorization
// header, untrimmed, and whether the header has that form.
func bearer(ctx *fasthttp.RequestCtx) (string, bool) {
	return strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
}

// requireRole authenticates a REST request's bearer key. REST takes keys
// only in the Authorization header: a URL's ?token= ends up in proxy and
// server logs and in browser history.
func (s *Server) requireRole(ctx *fasthttp.RequestCtx, min Role) (*principal, *apiError) {
	cred, ok := bearer(ctx)
	if !ok && ctx.QueryArgs().Has("token") {
		return nil, errorf(CodeUnauthorized, "REST takes the key only in the Authorization header (Authorization: Bearer <key>); ?token= is for WebSocket and SSE")
	}
	if cred == "" {
		return nil, errorf(CodeUnauthorized, "missing API key: send Authorization: Bearer <key>")
	}
	p := s.authenticate(strings.TrimSpace(cred))
	if p == nil {
		return nil, errorf(CodeUnauthorized, "unknown API key or expired token")
	}
	if p.role < min {
		return nil, errorf(CodeForbidden, "this needs a %s key; the key sent is a %s key", min, p.role)
	}
	return p, nil
}

// streamPrincipal authenticates a WebSocket or SSE request. A key or token
// in an Authorization: Bearer header (clients that can set headers) may be
// any; ?token= (browsers cannot set headers there) takes only the publish
// key and connection tokens, since URLs are kept in logs and histories: a
// secret or management key there is refused, never used.
func (s *Server) streamPrincipal(ctx *fasthttp.RequestCtx) (*principal, *apiError) {
	if h, ok := bearer(ctx); ok {
		if p := s.authenticate(strings.TrimSpace(h)); p != nil {
			return p, nil
		}
		return nil, errorf(CodeUnauthorized, "unknown key or expired token in the Authorization header")
	}
	cred := string(ctx.QueryArgs().Peek("token"))
	p := s.authenticate(cred)
	switch {
	case p == nil:
		return nil, errorf(CodeUnauthorized, "missing or invalid token: connect with ?token=<publish key or connection token>")
	case p.role > RolePublish:
		return nil, errorf(CodeUnauthorized, "a %s key is not accepted in ?token= (URLs end up in logs): send it in an Authorization: Bearer header, or connect with the publish key or a connection token from POST /api/v1/auth/token", p.role)
	}
	return p, nil
}

// tokenClaims are the claims of a connection token.
type tokenClaims struct {
	ClientID string   `json:"cid,omitempty"`
	Channels []string `json:"chs,omitempty"`
	jwt.RegisteredClaims
}

// tokenKey derives the token signing key from the secret key, so every node
// that shares the keys accepts every node's tokens.
func (s *Server) tokenKey() []byte {
	m := hmac.New(sha256.New, []byte(s.cfg.Keys.Secret))
	m.Write([]byte("pushflo connection token v1"))
	return m.Sum(nil)
}

func (s *Server) mintToken(clientID string, channels []string, ttl time.Duration) (string, time.Time, error) {
	exp := time.Now().Add(ttl).Truncate(time.Second)
	claims := tokenClaims{ClientID: clientID, Channels: channels, RegisteredClaims: jwt.RegisteredClaims{
		ExpiresAt: jwt.NewNumericDate(exp), Issuer: "pushflo",
	}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.tokenKey())
	return tok, exp, err
}

func (s *Server) parseToken(tok string) (*principal, error) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return s.tokenKey(), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("pushflo"), jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	return &principal{role: RolePublish, clientID: c.ClientID, channels: c.Channels, token: true, expires: c.ExpiresAt.Time}, nil
}
