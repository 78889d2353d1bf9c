package realtime

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the gateway's Prometheus metrics; cmd registers them.
type Metrics struct {
	connections   prometheus.Gauge
	subscriptions prometheus.Gauge
	deliveries    prometheus.Counter
	slowCloses    prometheus.Counter
	resumes       prometheus.Counter
	replayed      prometheus.Counter
	latency       prometheus.Histogram
}

func newMetrics() *Metrics {
	return &Metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "eventdesk_stream_connections",
			Help: "Open websocket connections of GET /v1/stream on this node."}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "eventdesk_stream_subscriptions",
			Help: "Topic subscriptions of this node's websocket connections."}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{Name: "eventdesk_stream_deliveries_total",
			Help: "Event messages written to websockets."}),
		slowCloses: prometheus.NewCounter(prometheus.CounterOpts{Name: "eventdesk_stream_slow_consumer_closes_total",
			Help: "Connections closed 4008 because their send queue stayed full."}),
		resumes: prometheus.NewCounter(prometheus.CounterOpts{Name: "eventdesk_stream_resumes_total",
			Help: "Subscriptions that gave an after position (resumed)."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "eventdesk_stream_replayed_events_total",
			Help: "Events a resumed subscription received that had committed before it subscribed."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "eventdesk_stream_delivery_latency_seconds",
			Help:    "From an event's recorded_at to its message written to a socket.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
	}
}

// Collectors returns every metric, for prometheus.Registerer.MustRegister.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.connections, m.subscriptions, m.deliveries, m.slowCloses, m.resumes, m.replayed, m.latency}
}
