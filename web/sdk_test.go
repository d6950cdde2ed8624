package web

import (
	"bytes"
	"testing"
)

func TestSDKBundle_IsTheESModule(t *testing.T) {
	if len(SDKBundle) == 0 {
		t.Fatal("web/sdk/pushflo.js is empty: run `make sdk-bundle`")
	}
	for _, want := range []string{"export {", "PushFloClient", "import.meta.url"} {
		if !bytes.Contains(SDKBundle, []byte(want)) {
			t.Errorf("the embedded bundle lacks %q: rebuild it with `make sdk-bundle`", want)
		}
	}
}
