package api

import (
	"bytes"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/valyala/fasthttp"
)

// metrics are the api's Prometheus series; Collectors exports them.
type metrics struct {
	publishes      prometheus.Counter
	publishSeconds prometheus.Histogram
	historyReads   prometheus.Counter
	errors         *prometheus.CounterVec
}

func newMetrics() *metrics {
	lat := prometheus.ExponentialBuckets(0.0001, 2, 18) // 0.1 ms … 13 s
	return &metrics{
		publishes:      prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_frontend_publishes_total", Help: "Messages published (acknowledged 201)."}),
		publishSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pushflo_frontend_publish_duration_seconds", Help: "Publish request time, from body read to commit.", Buckets: lat}),
		historyReads:   prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_frontend_history_reads_total", Help: "History and since requests served."}),
		errors:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushflo_frontend_errors_total", Help: "Error answers by code, REST and frames."}, []string{"code"}),
	}
}

// Collectors returns the api's metrics, for the binary's registry.
func (s *Server) Collectors() []prometheus.Collector {
	m := s.metrics
	return []prometheus.Collector{m.publishes, m.publishSeconds, m.historyReads, m.errors}
}

// handleMetrics: GET /metrics, Prometheus text format; with
// MetricsPrivate or a MetricsKey, only for the metrics, secret or
// management key in the Authorization header.
func (s *Server) handleMetrics(ctx *fasthttp.RequestCtx) {
	if s.cfg.Metrics == nil {
		s.writeError(ctx, errorf(CodeNotFound, "metrics are not served by this server"))
		return
	}
	if s.cfg.MetricsPrivate || s.cfg.MetricsKey != "" {
		cred, ok := bearer(ctx)
		cred = strings.TrimSpace(cred)
		if !ok || cred == "" {
			s.writeError(ctx, errorf(CodeUnauthorized, "/metrics needs a key here: send Authorization: Bearer <metrics, secret or management key>"))
			return
		}
		if !(s.cfg.MetricsKey != "" && eq(cred, s.cfg.MetricsKey)) && !eq(cred, s.cfg.Keys.Secret) && !eq(cred, s.cfg.Keys.Mgmt) {
			s.writeError(ctx, errorf(CodeUnauthorized, "/metrics takes the metrics, secret or management key; the key sent is none of them"))
			return
		}
	}
	mfs, err := s.cfg.Metrics.Gather()
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
