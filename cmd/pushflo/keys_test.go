package main

import (
	"bytes"
	"testing"

	"github.com/pushflo/pushflo/api"
)

// TestPrintFreshKeys: only the keys this start generated are shown, one a
// line with their values aligned; none generated prints nothing.
func TestPrintFreshKeys(t *testing.T) {
	var b bytes.Buffer
	printFreshKeys(&b, "  ", api.Keys{Publish: "pub_1", Mgmt: "mgmt_3"}, "/d/secrets.json")
	want := "  keys generated and saved in /d/secrets.json; shown this once:\n" +
		"    publish key: pub_1\n" +
		"    mgmt key:    mgmt_3\n"
	if b.String() != want {
		t.Fatalf("printFreshKeys printed\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	printFreshKeys(&b, "", api.Keys{}, "/d/secrets.json")
	if b.Len() != 0 {
		t.Fatalf("printFreshKeys with no fresh keys printed %q, want nothing", b.String())
	}
}
