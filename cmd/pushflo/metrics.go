package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// registerMetrics registers the process's own collectors and each
// package's in the binary's registry; GET /metrics serves it.
func registerMetrics(reg *prometheus.Registry, sets ...[]prometheus.Collector) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, set := range sets {
		reg.MustRegister(set...)
	}
}
