//go:build integration && !windows

package client_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/client/internal/testnode"
)

// TestClient_Backup: Backup streams the backup of the first node that
// answers, asks the next node when a read fails (the error names each
// node's failure), and reports a refused key as the server's answer.
func TestClient_Backup(t *testing.T) {
	ctx := testCtx(t, 60*time.Second)
	cl, err := client.New(client.Config{Addrs: []string{"http://127.0.0.1:1", exampleAddr}, MgmtKey: testnode.MgmtKey})
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	err = cl.Backup(ctx, func(r io.Reader) (err error) {
		size, err = io.Copy(io.Discard, r)
		return err
	})
	if err != nil || size == 0 {
		t.Fatalf("backup past a closed port: %d bytes, %v", size, err)
	}

	reads := 0
	err = cl.Backup(ctx, func(io.Reader) error {
		reads++
		return errors.New("the reader refused the stream")
	})
	if reads != 1 || err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "the reader refused the stream") {
		t.Fatalf("failing reads: %d reads, err %v; want 1 read and both nodes' failures", reads, err)
	}

	bad, err := client.New(client.Config{Addrs: []string{exampleAddr}, MgmtKey: "mgmt_not_the_key"})
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Backup(ctx, func(io.Reader) error {
		t.Error("read called for a refused key")
		return nil
	})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("backup with a wrong key: %v; want the server's 401", err)
	}
}
