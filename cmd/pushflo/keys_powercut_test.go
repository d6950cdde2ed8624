//go:build linux

package main

import (
	"testing"

	"github.com/pushflo/pushflo/jepsen/faultfs/faultfstest"
)

// TestLoadSecrets_SurvivesPowerCut: the generated keys must be on disk
// before the node uses them. Found by the jepsen power-cut nemesis: a node
// whose power was cut seconds after its first start could never start
// again ("read …/secrets.json: unexpected end of JSON input"), because the
// file was written without fsync.
func TestLoadSecrets_SurvivesPowerCut(t *testing.T) {
	fs, data := faultfstest.Mount(t, "pushflo-keys-test")
	first, fresh, err := loadSecrets(data, secrets{})
	if generated := fresh != (secrets{}); err != nil || !generated {
		t.Fatalf("first start: generated=%v, err=%v", generated, err)
	}
	if _, err := fs.PowerCut(); err != nil {
		t.Fatal(err)
	}
	again, fresh, err := loadSecrets(data, secrets{})
	generated := fresh != (secrets{})
	if err != nil {
		t.Fatalf("start after a power cut: %v", err)
	}
	if generated || again != first {
		t.Fatalf("keys after a power cut differ from those generated before it (generated again: %v)", generated)
	}
}
