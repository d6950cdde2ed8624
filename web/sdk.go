package web

import _ "embed"

// SDKPath is the URL path the browser SDK bundle is served at.
const SDKPath = "/sdk/pushflo.js"

// SDKBundle is the browser ES module build of the TypeScript SDK (sdk/js),
// built by `make sdk-bundle`. Serve it with SDKContentType.
//
//go:embed sdk/pushflo.js
var SDKBundle []byte

// SDKContentType is the Content-Type browsers require for an ES module.
const SDKContentType = "text/javascript; charset=utf-8"
