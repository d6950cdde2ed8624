// Package web holds the static files the server serves to browsers,
// embedded in the binary so that `go build` alone builds everything and
// they work with no network access beyond the server:
//
//   - the browser ES module build of the TypeScript SDK, served at
//     /sdk/pushflo.js so that a plain HTML page can
//     `import { PushFloClient } from "https://host/sdk/pushflo.js"` with
//     no build step. sdk/pushflo.js is generated from sdk/js by
//     `make sdk-bundle` and committed; the SDK's tests fail when it no
//     longer matches its source.
//   - the web console under /console/ (console/: plain HTML, CSS and ES
//     modules, no build step). It signs in with a sec_ or mgmt_ key kept in
//     sessionStorage and sent only in the Authorization header, and talks
//     only to the public REST API, /metrics and, for live tails, the SDK
//     above with connection tokens it mints.
//
// Lookup answers what to send for a path; package api serves it
// (api/web.go) for GET /, /console… and /sdk/pushflo.js.
package web
