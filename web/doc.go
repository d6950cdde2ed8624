// Package web holds the static files the server serves to browsers,
// embedded in the binary: the browser ES module build of the TypeScript
// SDK, served at /sdk/pushflo.js so that a plain HTML page can
// `import { PushFloClient } from "https://host/sdk/pushflo.js"` with no
// build step.
//
// sdk/pushflo.js is generated from sdk/js by `make sdk-bundle` and
// committed; the SDK's tests fail when it no longer matches its source.
// Package api serves it (api/sdk.go).
package web
