package web

import (
	"bytes"
	"regexp"
	"testing"
)

func TestSDKBundle_IsTheESModule(t *testing.T) {
	if len(SDKBundle) == 0 {
		t.Fatal("web/sdk/pushflo.js is empty: run `make sdk-bundle`")
	}
	// The bundle is minified: `export{… as PushFloClient …}`.
	if !regexp.MustCompile(`export\s*\{[^}]*\bPushFloClient\b`).Match(SDKBundle) {
		t.Error("the embedded bundle does not export PushFloClient: rebuild it with `make sdk-bundle`")
	}
	if !bytes.Contains(SDKBundle, []byte("import.meta.url")) {
		t.Error(`the embedded bundle lacks "import.meta.url": rebuild it with ` + "`make sdk-bundle`")
	}
}
