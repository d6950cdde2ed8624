package web

import (
	"embed"
	"path"
	"strings"
)

// ConsolePath is the URL path the web console is served under; "/" and
// ConsolePath without its trailing slash redirect to ConsolePath + "/".
const ConsolePath = "/console"

//go:embed console
var console embed.FS

// Asset is one file the server sends a browser.
type Asset struct {
	Body        []byte
	ContentType string
	// CacheControl is the Cache-Control header to send with it.
	CacheControl string
}

// ConsoleCSP is the Content-Security-Policy sent with the console's pages:
// scripts, styles and connections come from the server itself only, so
// the console works with no network access beyond it and no injected
// script runs.
const ConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Lookup answers the asset served at urlPath (a GET under ConsolePath or
// the SDK bundle at SDKPath), or false when there is none. redirect is
// non-empty when the browser should be sent there instead ("/" and
// "/console" go to "/console/").
func Lookup(urlPath string) (a Asset, redirect string, ok bool) {
	switch {
	case urlPath == SDKPath:
		// The bundle changes only with the binary: let browsers keep it a while.
		return Asset{Body: SDKBundle, ContentType: SDKContentType, CacheControl: "public, max-age=300"}, "", true
	case urlPath == "/" || urlPath == ConsolePath:
		return Asset{}, ConsolePath + "/", true
	case !strings.HasPrefix(urlPath, ConsolePath+"/"):
		return Asset{}, "", false
	}
	name := strings.TrimPrefix(urlPath, ConsolePath+"/")
	if name == "" {
		name = "index.html"
	}
	clean := path.Clean("/" + name)[1:]
	if clean != name {
		return Asset{}, "", false
	}
	body, err := console.ReadFile("console/" + name)
	if err != nil {
		return Asset{}, "", false
	}
	// no-cache: the browser revalidates, so a new binary's console is
	// picked up at once.
	return Asset{Body: body, ContentType: contentType(name), CacheControl: "no-cache"}, "", true
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return SDKContentType
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}
