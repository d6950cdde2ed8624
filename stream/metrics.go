package stream

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pushflo/pushflo/internal/clock"
)

// metrics are the stream's Prometheus series; Collectors exports them.
type metrics struct {
	connections   *prometheus.GaugeVec
	subscriptions prometheus.Gauge
	deliveries    prometheus.Counter
	replayed      prometheus.Counter
	slowConsumers prometheus.Counter
	revoked       prometheus.Counter
	deliverySecs  prometheus.Histogram
}

func newMetrics() *metrics {
	lat := prometheus.ExponentialBuckets(0.0001, 2, 18) // 0.1 ms … 13 s
	return &metrics{
		connections:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pushflo_frontend_connections", Help: "Open subscriber connections."}, []string{"transport"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "pushflo_frontend_subscriptions", Help: "Active channel subscriptions."}),
		deliveries:    prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_frontend_deliveries_total", Help: "Messages written to subscribers, live and replayed."}),
		replayed:      prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_frontend_replayed_total", Help: "Messages replayed from the log on subscribe or resume."}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_frontend_slow_consumers_total", Help: "Subscribers disconnected as slow consumers: their queue overflowed or a write to their socket timed out."}),
		revoked:       prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_frontend_subscriptions_revoked_total", Help: "Subscriptions dropped because the connection lost access to the channel (made private, grant gone)."}),
		deliverySecs:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pushflo_frontend_delivery_latency_seconds", Help: "Live delivery latency: from the leader stamping the message at commit (its clock, millisecond resolution) to the frame being written on this node, replication to followers included.", Buckets: lat}),
	}
}

// Collectors returns the hub's metrics, for the binary's registry.
func (h *Hub) Collectors() []prometheus.Collector {
	m := h.metrics
	return []prometheus.Collector{m.connections, m.subscriptions, m.deliveries, m.replayed, m.slowConsumers, m.revoked, m.deliverySecs}
}

// written counts the messages among frames just written to a subscriber,
// and observes the live ones' delivery latency.
func (m *metrics) written(frames []Frame) {
	n := 0
	for i := range frames {
		if d := frames[i].Delivery; d != nil {
			n++
			if !d.Picked.IsZero() {
				m.deliverySecs.Observe(max(0, clock.Now().Sub(time.UnixMilli(d.Message.Time)).Seconds()))
			}
		}
	}
	if n > 0 {
		m.deliveries.Add(float64(n))
	}
}
