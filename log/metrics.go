package log

import "github.com/prometheus/client_golang/prometheus"

// Collectors returns the store's metrics, for the binary's registry.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pushflo_log_disk_bytes", Help: "Bytes the log store occupies on disk."},
			func() float64 { return float64(s.DiskBytes()) }),
	}
}
