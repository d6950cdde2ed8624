package api

import (
	"github.com/pushflo/pushflo/web"
	"github.com/valyala/fasthttp"
)

// handleSDK: GET /sdk/pushflo.js, the browser ES module build of the
// TypeScript SDK (package web), so that a page on any origin can
// `import { PushFloClient } from "https://host/sdk/pushflo.js"`. Module
// scripts are fetched with CORS; handle's CORS headers cover that. A client
// made from this module without a baseUrl talks to this server.
func handleSDK(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(web.SDKContentType)
	// The bundle changes only with the binary: let browsers keep it a while.
	ctx.Response.Header.Set("Cache-Control", "public, max-age=300")
	ctx.SetBody(web.SDKBundle)
}
