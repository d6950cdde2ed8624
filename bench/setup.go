package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pushflo/pushflo/client"
)

// setupHTTP carries the setup calls of every nodeClient; one transport, so
// they reuse connections.
var setupHTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// nodeClient returns a client of the pushflo client module for the node at
// base, for setup and checks (warm-up and marker publishes, finding the
// leader), each call bounded by timeout. What is measured never goes
// through it: the load runs on this package's lean posters and readers.
func nodeClient(base string, keys Keys, timeout time.Duration) (*client.Client, error) {
	return client.New(client.Config{Addrs: []string{base}, SecretKey: keys.Secret, MgmtKey: keys.Mgmt, HTTPClient: setupHTTP, RequestTimeout: timeout})
}

// postMessage publishes content (a JSON object) to channel through the
// node at base and returns the message ID.
func postMessage(ctx context.Context, base string, keys Keys, channel, content string) (string, error) {
	c, err := nodeClient(base, keys, 10*time.Second)
	if err != nil {
		return "", err
	}
	res, err := c.Publish(ctx, channel, json.RawMessage(content))
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", base, err)
	}
	return res.ID, nil
}

// clusterLeader asks the node at base for the cluster's status and
// returns the leader's HTTP address.
func clusterLeader(ctx context.Context, base string, keys Keys) (string, error) {
	c, err := nodeClient(base, keys, 3*time.Second)
	if err != nil {
		return "", err
	}
	st, err := c.ClusterStatus(ctx)
	if err != nil {
		return "", err
	}
	for _, m := range st.Members {
		if m.ID == st.Leader && st.Leader != "" {
			return m.HTTPAddr, nil
		}
	}
	return "", fmt.Errorf("GET %s/api/v1/cluster: no leader yet", base)
}
