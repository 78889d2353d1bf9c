package main

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/eventdesk/eventdesk/eventstore/feed"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/projections"
)

// metricsEvery is how often the store-derived gauges are refreshed.
const metricsEvery = 5 * time.Second

// storeMetrics are the gauges fed from the event store.
type storeMetrics struct {
	oldestTx prometheus.Gauge
	head     prometheus.Gauge
	lag      *prometheus.GaugeVec
}

// newRegistry returns a registry with the Go runtime, process and
// connection pool collectors and the store gauges.
func newRegistry(db *sql.DB) (*prometheus.Registry, *storeMetrics) {
	m := &storeMetrics{
		oldestTx: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eventdesk_oldest_transaction_age_seconds",
			Help: "Age of the oldest open transaction holding a transaction id anywhere in the PostgreSQL cluster; while it stays open, subscribers receive no later event.",
		}),
		head: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eventdesk_head_position",
			Help: "Sequence number of the last event subscribers can currently read.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "eventdesk_projection_lag_events",
			Help: "Events readable in the log that each projection has not applied yet (capped at 1,000,000).",
		}, []string{"projection"}),
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "eventdesk"),
		m.oldestTx, m.head, m.lag,
	)
	return reg, m
}

// refresh updates the store gauges every metricsEvery until ctx is done.
func (m *storeMetrics) refresh(ctx context.Context, store *postgres.Store, runner *projections.Runner, log *slog.Logger) {
	for {
		m.update(ctx, store, runner, log)
		select {
		case <-ctx.Done():
			return
		case <-time.After(metricsEvery):
		}
	}
}

func (m *storeMetrics) update(ctx context.Context, store *postgres.Store, runner *projections.Runner, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, metricsEvery)
	defer cancel()
	if age, err := store.OldestTransactionAge(ctx); err == nil {
		m.oldestTx.Set(age.Seconds())
	} else if ctx.Err() == nil {
		log.WarnContext(ctx, "metrics: oldest transaction age", "err", err)
	}
	if head, err := store.Head(ctx, ""); err == nil {
		m.head.Set(float64(head.Seq))
	} else if ctx.Err() == nil {
		log.WarnContext(ctx, "metrics: head position", "err", err)
	}
	if sts, err := runner.Status(ctx); err == nil {
		for _, st := range sts {
			m.lag.WithLabelValues(st.Name).Set(float64(st.Lag))
		}
	} else if ctx.Err() == nil {
		log.WarnContext(ctx, "metrics: projection lag", "err", err)
	}
}

// feedMetrics exposes the event feed hub's counters, read at each scrape.
func feedMetrics(hub *feed.Hub) []prometheus.Collector {
	gauge := func(name, help string, v func(feed.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return v(hub.Stats()) })
	}
	counter := func(name, help string, v func(feed.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(hub.Stats())) })
	}
	return []prometheus.Collector{
		gauge("eventdesk_feed_subscriptions", "Open subscriptions to this node's event feed (follow streams).",
			func(s feed.Stats) float64 { return float64(s.Subscriptions) }),
		gauge("eventdesk_feed_live_subscriptions", "Subscriptions fed in memory by the node's one follower (the others are catching up from the store).",
			func(s feed.Stats) float64 { return float64(s.Live) }),
		counter("eventdesk_feed_follower_reads_total", "Reads of the log by the node's one follower.",
			func(s feed.Stats) int64 { return s.FollowerReads }),
		counter("eventdesk_feed_catchup_reads_total", "Reads of the log by subscriptions catching up (late or slow ones).",
			func(s feed.Stats) int64 { return s.CatchUpReads }),
		counter("eventdesk_feed_overflows_total", "Times a slow subscription was dropped from the in-memory fan-out and caught up from the store.",
			func(s feed.Stats) int64 { return s.Overflows }),
	}
}
