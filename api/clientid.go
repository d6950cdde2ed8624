package api

import (
	"crypto/rand"
	"encoding/hex"
)

// newClientID returns a random client ID for connections that name none.
func newClientID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "client_" + hex.EncodeToString(b)
}
