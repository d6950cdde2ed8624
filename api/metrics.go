package api

import (
	"bytes"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/valyala/fasthttp"
)

// metrics are the frontend's Prometheus series; see the README for the list.
type metrics struct {
	reg            *prometheus.Registry
	publishes      prometheus.Counter
	publishSeconds prometheus.Histogram
	historyReads   prometheus.Counter
	errors         *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	lat := prometheus.ExponentialBuckets(0.0001, 2, 18) // 0.1 ms … 13 s
	m.publishes = prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_frontend_publishes_total", Help: "Messages published (acknowledged 201)."})
	m.publishSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pushflo_frontend_publish_duration_seconds", Help: "Publish request time, from body read to commit.", Buckets: lat})
	m.historyReads = prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_frontend_history_reads_total", Help: "History and since requests served."})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushflo_frontend_errors_total", Help: "Error answers by code, REST and frames."}, []string{"code"})
	for _, c := range []prometheus.Collector{m.publishes, m.publishSeconds, m.historyReads, m.errors} {
		f(c)
	}
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pushflo_raftnode_applied_index", Help: "Last Raft index applied to the log store."}, func() float64 { return float64(s.store.Applied()) }))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pushflo_raftnode_is_leader", Help: "1 while this node is the Raft leader."}, func() float64 {
		if s.node.IsLeader() {
			return 1
		}
		return 0
	}))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pushflo_log_disk_bytes", Help: "Bytes the log store occupies on disk."}, func() float64 { return float64(s.store.DiskBytes()) }))
	for _, c := range s.hub.Collectors() {
		f(c)
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the server's metrics registry, for other packages'
// collectors (compaction) to join.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// handleMetrics: GET /metrics, Prometheus text format.
func (s *Server) handleMetrics(ctx *fasthttp.RequestCtx) {
	mfs, err := s.metrics.reg.Gather()
	if err != nil {
		s.logger.Warn("gather metrics", "err", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		_ = enc.Encode(mf)
	}
	ctx.SetContentType(string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	ctx.SetBody(buf.Bytes())
}
