package api

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

type tokenRequest struct {
	PublishKey string   `json:"publishKey"`
	ClientID   string   `json:"clientId"`
	Channels   []string `json:"channels"`
	TTL        int64    `json:"ttl"`
}

type tokenResponse struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
	Endpoint  string `json:"endpoint"`
	ClientID  string `json:"clientId"`
}

// handleToken: POST /api/v1/auth/token. A valid publishKey in the body
// gets a token for public channels; a secret or management key in the
// Authorization header may also grant private channels.
func (s *Server) handleToken(ctx *fasthttp.RequestCtx) {
	var req tokenRequest
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil {
		s.writeError(ctx, errorf(CodeValidation, "request body is not valid JSON: %v", err))
		return
	}
	var caller *principal
	if h, ok := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer "); ok {
		caller = s.authenticate(strings.TrimSpace(h))
		if caller == nil {
			s.writeError(ctx, errorf(CodeUnauthorized, "unknown API key"))
			return
		}
	}
	if caller == nil || caller.role < RolePublish || caller.token {
		if !eq(req.PublishKey, s.cfg.Keys.Publish) {
			s.writeError(ctx, errorf(CodeUnauthorized, "publishKey is missing or unknown"))
			return
		}
		caller = &principal{role: RolePublish}
	}
	var problems []*apiError
	if len(req.Channels) > 0 && caller.role < RoleSecret {
		problems = append(problems, errorf(CodeForbidden, "granting channels needs a secret key in the Authorization header"))
	}
	for _, c := range req.Channels {
		if c == "*" {
			continue
		}
		if p := validChannel(c); p != nil {
			problems = append(problems, p)
		}
	}
	if p := validClientID(req.ClientID); p != nil {
		problems = append(problems, p)
	}
	ttl := s.cfg.TokenTTL
	if req.TTL != 0 {
		if req.TTL < 10 || req.TTL > 7*24*3600 {
			problems = append(problems, errorf(CodeValidation, "ttl is %d seconds; 10 to %d are allowed", req.TTL, 7*24*3600))
		}
		ttl = time.Duration(req.TTL) * time.Second
	}
	if bad := joinProblems(problems); bad != nil {
		s.writeError(ctx, bad)
		return
	}
	clientID := req.ClientID
	if clientID == "" {
		clientID = newClientID()
	}
	tok, exp, err := s.mintToken(clientID, req.Channels, ttl)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	endpoint := ""
	if e := s.wsEndpoint.Load(); e != nil {
		endpoint = *e
	}
	writeOK(ctx, fasthttp.StatusOK, tokenResponse{
		Token: tok, ExpiresAt: exp.UTC().Format(time.RFC3339), ClientID: clientID,
		Endpoint: endpoint, // from configuration (PublicURL), never from request headers
	})
}
