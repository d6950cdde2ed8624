package api

import (
	"github.com/pushflo/pushflo/web"
	"github.com/valyala/fasthttp"
)

// handleWeb: GET /, /console… and /sdk/pushflo.js, the files of package
// web. "/" redirects to the console. Module scripts are fetched with CORS;
// handle's CORS headers cover that, so a page on any origin can
// `import { PushFloClient } from "https://host/sdk/pushflo.js"`. The
// console's pages get a Content-Security-Policy that allows this server
// only.
func (s *Server) handleWeb(ctx *fasthttp.RequestCtx, path string) {
	a, redirect, ok := web.Lookup(path)
	switch {
	case !ok:
		s.writeError(ctx, errorf(CodeNotFound, "no route %s %s", ctx.Method(), path))
	case redirect != "":
		ctx.Response.Header.Set("Location", redirect)
		ctx.SetStatusCode(fasthttp.StatusFound)
	default:
		ctx.SetContentType(a.ContentType)
		ctx.Response.Header.Set("Cache-Control", a.CacheControl)
		ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
		if path != web.SDKPath {
			ctx.Response.Header.Set("Content-Security-Policy", web.ConsoleCSP)
			ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
		}
		ctx.SetBody(a.Body)
	}
}
