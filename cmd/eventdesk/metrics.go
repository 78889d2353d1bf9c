package main

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/eventdesk/eventdesk/eventstore/postgres"
)

// metricsEvery is how often the store-derived gauges are refreshed.
const metricsEvery = 5 * time.Second

// storeMetrics are the gauges fed from the event store.
type storeMetrics struct {
	oldestTx    prometheus.Gauge
	head        prometheus.Gauge
	checkpoints *prometheus.GaugeVec
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
			Help: "Global position of the last event subscribers can currently read.",
		}),
		checkpoints: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "eventdesk_checkpoint_position",
			Help: "Global position of the last event each durable consumer applied; eventdesk_head_position minus it approximates its lag.",
		}, []string{"consumer"}),
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "eventdesk"),
		m.oldestTx, m.head, m.checkpoints,
	)
	return reg, m
}

// refresh updates the store gauges every metricsEvery until ctx is done.
func (m *storeMetrics) refresh(ctx context.Context, store *postgres.Store, log *slog.Logger) {
	for {
		m.update(ctx, store, log)
		select {
		case <-ctx.Done():
			return
		case <-time.After(metricsEvery):
		}
	}
}

func (m *storeMetrics) update(ctx context.Context, store *postgres.Store, log *slog.Logger) {
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
	if cps, err := store.Checkpoints(ctx); err == nil {
		m.checkpoints.Reset()
		for name, p := range cps {
			m.checkpoints.WithLabelValues(name).Set(float64(p.Seq))
		}
	} else if ctx.Err() == nil {
		log.WarnContext(ctx, "metrics: checkpoints", "err", err)
	}
}
