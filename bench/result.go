package main

// Result is one scenario's measurement, as written to the JSON file.
type Result struct {
	// Name identifies the scenario run, such as "fanout-ws-1node".
	Name string `json:"name"`
	// Kind is fanout, throughput, connections, replay, stalled, reads,
	// idle or crossnode.
	Kind  string `json:"kind"`
	Title string `json:"title"`
	Nodes int    `json:"nodes"`
	// Transport is ws or sse where subscribers are involved.
	Transport string         `json:"transport,omitempty"`
	Params    map[string]any `json:"params"`
	// Seconds is the wall time of the measured phase.
	Seconds float64 `json:"seconds"`

	Publish        *pubStats `json:"publish,omitempty"`
	PublishLatency *Latency  `json:"publishLatency,omitempty"`
	// ServerPublish is the server's own view of the same publishes
	// (pushflo_frontend_publish_duration_seconds: body read → commit), to
	// tell server time from generator and network time.
	ServerPublish *ServerLatency `json:"serverPublish,omitempty"`
	// PublishesPerSec is acknowledged publishes per second.
	PublishesPerSec float64 `json:"publishesPerSec,omitempty"`

	// Delivery is publish-sent → message-received latency.
	Delivery *Latency `json:"delivery,omitempty"`
	// DeliveryByNode splits Delivery by the node the subscribers were
	// connected to ("n2 (leader)"), when they were spread over several.
	DeliveryByNode   map[string]*Latency `json:"deliveryByNode,omitempty"`
	DeliveriesPerSec float64             `json:"deliveriesPerSec,omitempty"`
	// Expected deliveries are acknowledged publishes times the
	// subscribers of their channel; Lost = expected minus received (per
	// subscriber, never negative); Extra = received beyond expected (a
	// publish that timed out but was committed); Disordered = deliveries
	// whose ID was not above the previous one on that subscriber.
	Expected   int64 `json:"expected,omitempty"`
	Received   int64 `json:"received,omitempty"`
	Lost       int64 `json:"lost"`
	Extra      int64 `json:"extra,omitempty"`
	Disordered int64 `json:"disordered,omitempty"`
	// Cut counts subscribers the server disconnected (slow consumer) or
	// whose connection broke during the run.
	Cut      int64  `json:"cut,omitempty"`
	FirstCut string `json:"firstCut,omitempty"`
	// SlowConsumers is the rise of the servers'
	// pushflo_frontend_slow_consumers_total during the run.
	SlowConsumers float64 `json:"slowConsumers,omitempty"`
	// ConnectSeconds is how long the subscribers took to connect and
	// subscribe.
	ConnectSeconds float64 `json:"connectSeconds,omitempty"`

	// ReadsPerSec, ReadLatency and ReadsFailed are a reads scenario's:
	// history pages answered per second and request → 200 latency.
	ReadsPerSec float64  `json:"readsPerSec,omitempty"`
	ReadLatency *Latency `json:"readLatency,omitempty"`
	ReadsFailed int64    `json:"readsFailed,omitempty"`

	Connections *ConnStats    `json:"connections,omitempty"`
	Replay      *ReplayStats  `json:"replay,omitempty"`
	Stalled     *StalledStats `json:"stalled,omitempty"`

	CPU      CPUUse          `json:"cpu"`
	Timeline []TimelinePoint `json:"timeline,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	// Error is set when the scenario could not run to the end.
	Error string `json:"error,omitempty"`
}

// ConnStats is the connections scenario's measurement.
type ConnStats struct {
	Requested int `json:"requested"`
	Connected int `json:"connected"`
	Failed    int `json:"failed"`
	// FirstError is the first failed connect.
	FirstError     string  `json:"firstError,omitempty"`
	ConnectSeconds float64 `json:"connectSeconds"`
	ConnectsPerSec float64 `json:"connectsPerSec"`
	// RSS of the server before and after, from /proc/<pid>/status.
	RSSBeforeBytes  int64   `json:"rssBeforeBytes"`
	RSSAfterBytes   int64   `json:"rssAfterBytes"`
	HWMAfterBytes   int64   `json:"hwmAfterBytes"`
	BytesPerConn    float64 `json:"bytesPerConn"`
	ClientHeapBytes uint64  `json:"clientHeapBytes,omitempty"`
	// From the server's /metrics (Go runtime), after minus before, per
	// connection: goroutines, stack and heap bytes in use. What is left of
	// BytesPerConn is runtime overhead, freed-but-unreturned memory and
	// non-Go allocations.
	GoroutinesPerConn float64 `json:"goroutinesPerConn"`
	StackBytesPerConn float64 `json:"stackBytesPerConn"`
	HeapBytesPerConn  float64 `json:"heapBytesPerConn"`
	// Verified counts connections that received a message published after
	// all had connected: proof they were alive and subscribed.
	Verified int `json:"verified"`
}

// ReplayStats is the replay scenario's measurement.
type ReplayStats struct {
	// Backlog is how many messages lay between the resume ID and the head.
	Backlog int64 `json:"backlog"`
	// SeedSeconds and SeedPerSec describe how the backlog was published.
	SeedSeconds float64 `json:"seedSeconds"`
	SeedPerSec  float64 `json:"seedPerSec"`
	// Replayed is how many backlog messages arrived; Seconds from the
	// subscribe frame to the last backlog message; PerSec = Replayed /
	// Seconds. FirstMessageMs is the time to the first replayed message.
	Replayed       int64   `json:"replayed"`
	Seconds        float64 `json:"seconds"`
	PerSec         float64 `json:"perSec"`
	FirstMessageMs float64 `json:"firstMessageMs"`
	// LiveAcked is how many messages were published live during the
	// replay, LiveReceived how many of them the subscriber got after
	// catching up; ReachedLiveSeconds is when the first live message
	// published after the subscribe arrived.
	LiveAcked          int64   `json:"liveAcked"`
	LiveReceived       int64   `json:"liveReceived"`
	ReachedLiveSeconds float64 `json:"reachedLiveSeconds"`
	Disordered         int64   `json:"disordered"`
}
