package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/pushflo/pushflo/stream"
)

// The fuzz targets of issue 11 item 12. `make fuzz-smoke` (part of `make
// test`) runs each for a few seconds; their seed corpora are checked in
// under testdata/fuzz and extended here with tokens minted at run time.

// fuzzTokens mints the tokens the seeds use: valid ones granting a public
// channel or nothing, and ones that must never pass (expired, signed with
// another key or another algorithm, unsigned) granting fuzzPrivate or
// everything.
func fuzzTokens(tb testing.TB, s *Server) map[string]string {
	tb.Helper()
	other := &Server{cfg: Config{Keys: Keys{Publish: "pub_otherotherother", Secret: "sec_otherotherother", Mgmt: "mgmt_otherotherother"}}}
	mint := func(srv *Server, cid string, chs []string, ttl time.Duration) string {
		tok, _, err := srv.mintToken(cid, chs, ttl)
		if err != nil {
			tb.Fatal(err)
		}
		return tok
	}
	claims := tokenClaims{ClientID: "forged", Channels: []string{"*"}, RegisteredClaims: jwt.RegisteredClaims{
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)), Issuer: "pushflo",
	}}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString(s.tokenKey())
	if err != nil {
		tb.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]string{
		"public":         mint(s, "c1", []string{"news"}, time.Hour),
		"plain":          mint(s, "c2", nil, time.Hour),
		"expiredPrivate": mint(s, "c3", []string{fuzzPrivate}, -time.Minute),
		"expiredAll":     mint(s, "c4", []string{"*"}, -time.Second),
		"otherKeyAll":    mint(other, "c5", []string{"*"}, time.Hour),
		"otherKeyPriv":   mint(other, "c6", []string{fuzzPrivate}, time.Hour),
		"hs512All":       hs512,
		"noneAll":        none,
	}
}

// fuzzPrivate is the private channel the WebSocket target guards.
const fuzzPrivate = "vault"

// FuzzParseToken: a connection token (or key) is accepted only when it is
// one of the three keys, or a token this server signed (HS256 with its
// key, issuer pushflo, not expired); an accepted token is never more than
// a publish key and grants exactly the channels its signed claims list.
func FuzzParseToken(f *testing.F) {
	s := &Server{cfg: Config{Keys: testKeys}}
	toks := fuzzTokens(f, s)
	for _, name := range slices.Sorted(maps.Keys(toks)) {
		f.Add(toks[name])
	}
	f.Add(testKeys.Publish)
	f.Add(testKeys.Secret + " ")
	f.Fuzz(func(t *testing.T, tok string) {
		p := s.authenticate(tok)
		if p == nil {
			return
		}
		switch {
		case tok == testKeys.Mgmt:
			if p.role != RoleMgmt || p.token {
				t.Fatalf("the mgmt key resolved to %+v", p)
			}
			return
		case tok == testKeys.Secret:
			if p.role != RoleSecret || p.token {
				t.Fatalf("the secret key resolved to %+v", p)
			}
			return
		case tok == testKeys.Publish:
			if p.role != RolePublish || p.token {
				t.Fatalf("the publish key resolved to %+v", p)
			}
			return
		}
		if p.role != RolePublish || !p.token {
			t.Fatalf("token %q resolved to role %v (token %v); a token is a publish credential", tok, p.role, p.token)
		}
		if !time.Now().Before(p.expires) {
			t.Fatalf("token %q accepted past its exp %v", tok, p.expires)
		}
		claims, err := verifyHS256(s.tokenKey(), tok)
		if err != nil {
			t.Fatalf("token %q accepted, but %v", tok, err)
		}
		if !slices.Equal(claims.Channels, p.channels) || claims.ClientID != p.clientID {
			t.Fatalf("token %q grants %q to %q; its signed claims say %q to %q", tok, p.channels, p.clientID, claims.Channels, claims.ClientID)
		}
	})
}

// verifyHS256 checks a JWT independently of the jwt library: three parts,
// header alg HS256, the signature is HMAC-SHA256 of the first two parts
// under key, issuer pushflo. It returns the claims.
func verifyHS256(key []byte, tok string) (tokenClaims, error) {
	var c tokenClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, fmt.Errorf("it has %d parts", len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return c, fmt.Errorf("its header is not base64url: %w", err)
	}
	var h struct{ Alg string }
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "HS256" {
		return c, fmt.Errorf("its header names alg %q (%v)", h.Alg, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return c, fmt.Errorf("its signature is not base64url: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return c, errors.New("its signature is not this server's HMAC")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, fmt.Errorf("its payload is not base64url: %w", err)
	}
	if err := json.Unmarshal(pb, &c); err != nil {
		return c, fmt.Errorf("its payload is not JSON: %w", err)
	}
	if c.Issuer != "pushflo" {
		return c, fmt.Errorf("its issuer is %q", c.Issuer)
	}
	return c, nil
}

// fuzzServer starts a real node (Raft, Pebble, loopback HTTP) for a fuzz
// target, with the per-address rate limit out of the way: every request
// comes from 127.0.0.1.
func fuzzServer(f *testing.F) *testServer {
	return startServer(f, func(c *Config, _ *stream.Config) { c.RateAddr, c.RateAddrBurst = 1e9, 1e9 })
}

// httpDo makes one request for a fuzz iteration.
func httpDo(t *testing.T, method, url, key string, body []byte) (int, []byte) {
	t.Helper()
	r := request(t, fuzzHTTP, method, url, key, bytes.NewReader(body))
	return r.status, r.body
}

var fuzzHTTP = &http.Client{Timeout: 15 * time.Second}

// FuzzTokenRequest: POST /api/v1/auth/token with any body and any of no
// key, the three keys, a connection token or junk in the Authorization
// header, through the real handler of a real node. A 200 comes only for
// the right publishKey or a key (not a token) in the header; its token verifies, is a
// publish credential, expires within the asked ttl, and grants channels
// only to a secret or management caller. Every answer is one of the
// documented statuses with a JSON body that never contains the secret or
// management key, and the node keeps serving.
func FuzzTokenRequest(f *testing.F) {
	ts := fuzzServer(f)
	toks := fuzzTokens(f, ts.srv)
	for _, body := range []string{
		`{"publishKey":"` + testKeys.Publish + `"}`,
		`{"publishKey":"` + testKeys.Publish + `","clientId":"u1","ttl":60}`,
		`{"publishKey":"` + testKeys.Publish + `","channels":["` + fuzzPrivate + `"]}`,
		`{"channels":["` + fuzzPrivate + `","*"],"ttl":10}`,
		`{"publishKey":"pub_wrong","ttl":604801}`,
		`{"publishKey":"` + testKeys.Publish + `","clientId":"` + strings.Repeat("x", 300) + `"}`,
		`{"channels":["..","a b"],"ttl":-1}`,
		`[1,2`,
		``,
	} {
		for auth := range uint8(6) {
			f.Add([]byte(body), auth)
		}
	}
	creds := []string{"", testKeys.Publish, testKeys.Secret, testKeys.Mgmt, toks["public"], "sec_junkjunkjunk"}
	f.Fuzz(func(t *testing.T, body []byte, auth uint8) {
		cred := creds[int(auth)%len(creds)]
		status, resp := httpDo(t, "POST", ts.url+"/api/v1/auth/token", cred, body)
		var env struct {
			Success bool
			Code    string
			Data    tokenResponse
		}
		if err := json.Unmarshal(resp, &env); err != nil {
			t.Fatalf("answer %d is not JSON: %q", status, resp)
		}
		if bytes.Contains(resp, []byte(testKeys.Secret)) || bytes.Contains(resp, []byte(testKeys.Mgmt)) {
			t.Fatalf("answer %d carries a secret or management key: %q", status, resp)
		}
		switch status {
		case 400, 401, 403, 413:
			if env.Success || env.Code == "" {
				t.Fatalf("answer %d without an error code: %q", status, resp)
			}
			return
		case 200:
		default:
			t.Fatalf("answer %d to a token request: %q", status, resp)
		}
		var req tokenRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("200 for a body that is not JSON: %q", body)
		}
		caller := ts.srv.authenticate(cred)
		strong := caller != nil && caller.role >= RoleSecret
		keyed := caller != nil && !caller.token // a key in the header stands for publishKey
		if !keyed && req.PublishKey != testKeys.Publish {
			t.Fatalf("200 without a key in the header or the publish key in the body (auth %d, body %q)", auth, body)
		}
		p := ts.srv.authenticate(env.Data.Token)
		if p == nil || !p.token || p.role != RolePublish {
			t.Fatalf("the minted token does not verify as a publish credential: %+v", p)
		}
		if len(p.channels) > 0 && !strong {
			t.Fatalf("a caller without a secret key got a token granting %q (auth %d, body %q)", p.channels, auth, body)
		}
		ttl := ts.srv.cfg.TokenTTL
		if req.TTL != 0 {
			ttl = time.Duration(req.TTL) * time.Second
		}
		if time.Until(p.expires) > ttl+time.Second {
			t.Fatalf("token expires in %s; %s was asked", time.Until(p.expires), ttl)
		}
		if p.clientID != env.Data.ClientID {
			t.Fatalf("token for client %q, answer says %q", p.clientID, env.Data.ClientID)
		}
	})
}

// FuzzWebSocket_PrivateChannel sends any sequence of up to 16 frames (text
// or binary, one per line of the input) over a real WebSocket connection
// opened with the pub_ key, or a token that grants a public channel, to a
// real node that holds the private channel "vault". Then it subscribes to
// a public channel, publishes to vault and to that channel, and reads until
// the public message arrives. The connection must never receive a vault
// message, gap or subscribed frame, and the node must keep serving: the
// public message arrives, or the server closed the connection and a new
// one can subscribe and receive.
func FuzzWebSocket_PrivateChannel(f *testing.F) {
	ts := fuzzServer(f)
	toks := fuzzTokens(f, ts.srv)
	if r := ts.do("POST", "/api/v1/channels", testKeys.Secret, `{"name":"v","slug":"`+fuzzPrivate+`","isPrivate":true}`); r.status != 201 {
		f.Fatalf("create the private channel: %d %s", r.status, r.body)
	}
	first := ts.publish(fuzzPrivate, `{"n":0}`)
	sub := func(ch string, extra string) string {
		return `{"type":"subscribe","channel":"` + ch + `"` + extra + `}`
	}
	seeds := [][]string{
		{sub(fuzzPrivate, "")},
		{sub(fuzzPrivate, `,"lastMessageId":"`+first+`"`)},
		{sub(fuzzPrivate, `,"lastMessageId":"0000000000000000"`)},
		{sub("news", ""), `{"type":"refresh","token":"` + toks["expiredPrivate"] + `"}`, sub(fuzzPrivate, "")},
		{`{"type":"refresh","token":"` + toks["otherKeyAll"] + `"}`, sub(fuzzPrivate, "")},
		{`{"type":"refresh","token":"` + toks["hs512All"] + `"}`, sub(fuzzPrivate, "")},
		{`{"type":"refresh","token":"` + toks["noneAll"] + `"}`, sub(fuzzPrivate, "")},
		{`{"type":"refresh","token":"` + toks["public"] + `"}`, sub(fuzzPrivate, ""), sub("news", "")},
		{`{"type":"subscribe","channel":"VAULT"}`, `{"type":"subscribe","channel":"vault "}`, `{"type":"subscribe","channel":"vault\u0000"}`},
		{`{"type":"subscribe","channel":"vault","channel":"news"}`, `{"type":"subscribe","channel":"news","channel":"vault"}`},
		{`{"type":"unsubscribe","channel":"vault"}`, `{"type":"ping"}`, `{"type":"ack","messageId":"` + first + `"}`},
		{"\x00binary frame", `not json`, `{"type":"nope"}`, `{}`, `[]`, strings.Repeat("x", 20000)},
	}
	for _, s := range seeds {
		f.Add([]byte(strings.Join(s, "\n")), uint8(0))
		f.Add([]byte(strings.Join(s, "\n")), uint8(1))
	}
	wsURL := strings.Replace(ts.url, "http://", "ws://", 1) + "/ws?token="
	creds := []string{testKeys.Publish, toks["public"]}
	n := 0
	f.Fuzz(func(t *testing.T, input []byte, auth uint8) {
		n++
		ws, _, err := websocket.DefaultDialer.Dial(wsURL+creds[int(auth)%len(creds)], nil)
		if err != nil {
			t.Fatalf("dial: the server stopped accepting connections: %v", err)
		}
		defer ws.Close()
		frames := bytes.Split(input, []byte("\n"))
		if len(frames) > 16 {
			frames = frames[:16]
		}
		for _, fr := range frames {
			kind := websocket.TextMessage
			if len(fr) > 0 && fr[0] == 0 {
				kind = websocket.BinaryMessage
			}
			ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if ws.WriteMessage(kind, fr) != nil {
				break // the server closed the connection; checked below
			}
		}
		barrier := fmt.Sprintf("fuzz-bar-%d", n)
		ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
		ws.WriteMessage(websocket.TextMessage, []byte(sub(barrier, "")))
		// Published in this order, the vault message applies first.
		if st, b := httpDo(t, "POST", ts.url+"/api/v1/channels/"+fuzzPrivate+"/messages", testKeys.Secret, []byte(`{"content":{"secret":true}}`)); st != 201 {
			t.Fatalf("publish to %s: %d %s", fuzzPrivate, st, b)
		}
		want := ""
		checkFrames := func() (closed bool) {
			for {
				ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, b, err := ws.ReadMessage()
				if err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						return true
					}
					t.Fatalf("reading frames: %v (frames sent: %q)", err, frames)
				}
				var m struct {
					Type, Channel, MessageID string
				}
				if json.Unmarshal(b, &m) != nil {
					t.Fatalf("a frame that is not JSON: %q", b)
				}
				if m.Channel == fuzzPrivate && (m.Type == "message" || m.Type == "gap" || m.Type == "subscribed") {
					t.Fatalf("a pub_ connection received %q of the private channel after frames %q", b, frames)
				}
				if m.Type == "subscribed" && m.Channel == barrier && want == "" {
					st, body := httpDo(t, "POST", ts.url+"/api/v1/channels/"+barrier+"/messages", testKeys.Secret, []byte(`{"content":{"bar":true}}`))
					if st != 201 {
						t.Fatalf("publish to %s: %d %s", barrier, st, body)
					}
					var r struct{ Data struct{ ID string } }
					json.Unmarshal(body, &r)
					want = r.Data.ID
				}
				if m.Type == "message" && m.Channel == barrier && m.MessageID == want {
					return false
				}
			}
		}
		if !checkFrames() {
			return
		}
		// The server closed this connection (a limit, a bad frame it
		// closes on): a new one must be served.
		ws2, _, err := websocket.DefaultDialer.Dial(wsURL+testKeys.Publish, nil)
		if err != nil {
			t.Fatalf("after a closed connection, the server refuses a new one: %v", err)
		}
		defer ws2.Close()
		ws, want = ws2, ""
		ws.WriteMessage(websocket.TextMessage, []byte(sub(barrier, "")))
		if checkFrames() {
			t.Fatalf("a fresh connection was closed before its first message (frames of the closed one: %q)", frames)
		}
	})
}
