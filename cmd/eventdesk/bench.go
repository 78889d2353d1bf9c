package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/storebench"
	"github.com/eventdesk/eventdesk/migrations"
	"github.com/eventdesk/eventdesk/projections"
)

type benchOptions struct {
	duration    time.Duration
	connections int
	clients     int
	events      int
	cpuProfile  string
	only        []string
	// customers is how many customers the identity lookups and the
	// contacts.v1 catch-up run over; mergeTickets how many tickets the
	// merged contact has.
	customers    int
	mergeTickets int
	realtime     realtimeOptions
}

// runs reports whether figure group g (store, http, projections) is
// selected by --only.
func (o benchOptions) runs(g string) bool {
	return len(o.only) == 0 || slices.Contains(o.only, g)
}

func benchCmd(c *cli) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the store, the HTTP API and the projections side by side on scratch databases",
		Long: "bench creates scratch databases on the configured PostgreSQL server, measures, prints a\n" +
			"table and one JSON line per figure, and drops the databases again.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return bench(cmd.Context(), c, o) },
	}
	cmd.Flags().DurationVar(&o.duration, "duration", 5*time.Second, "how long each throughput figure runs")
	cmd.Flags().IntVar(&o.connections, "connections", 16, "concurrent store writers")
	cmd.Flags().IntVar(&o.clients, "clients", 32, "concurrent HTTP clients")
	cmd.Flags().IntVar(&o.events, "events", 200_000, "events for the catch-up and rebuild figures")
	cmd.Flags().IntVar(&o.customers, "customers", 1_000_000, "customers in the tenant for the identity lookups and the contacts.v1 catch-up")
	cmd.Flags().IntVar(&o.mergeTickets, "merge-tickets", 1000, "tickets of the contact merged and un-merged")
	cmd.Flags().IntVar(&o.realtime.sockets, "sockets", 10_000, "realtime: idle sockets, and sockets subscribed while comments are written")
	cmd.Flags().IntVar(&o.realtime.tickets, "socket-tickets", 1000, "realtime: tickets the subscribed sockets spread over")
	cmd.Flags().IntVar(&o.realtime.stormClients, "storm-clients", 2000, "realtime: clients reconnecting at once in the resume storm")
	cmd.Flags().IntVar(&o.realtime.stormBehind, "storm-behind", 1000, "realtime: events each storm client is behind")
	cmd.Flags().IntVar(&o.realtime.burst, "burst", 5, "realtime: comments a ticket appended at once in the fan-out burst")
	cmd.Flags().Float64Var(&o.realtime.pacedShare, "paced-share", 0.5, "realtime: after the saturated commit → delivery figure, measure it again with the comments paced to this share of the rate reached (0: skip)")
	cmd.Flags().IntVar(&o.realtime.watch, "socket-watch", 1, "realtime: tickets each subscribed socket watches (sockets × watch / socket-tickets sockets a ticket)")
	cmd.Flags().BoolVar(&o.realtime.idleOnly, "idle-only", false, "realtime: measure only the idle socket memory (skips the delivery and resume-storm figures, about 2 minutes)")
	cmd.Flags().StringVar(&o.realtime.memProfile, "socket-memprofile", "", "realtime: write a heap profile of the server holding its idle sockets to this file (every allocation sampled)")
	cmd.Flags().StringSliceVar(&o.only, "only", nil, "run only these figure groups: store, http, projections, crm, listener, realtime (default all)")
	cmd.Flags().StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file")
	return cmd
}

// scratch creates a migrated database of its own on the configured server;
// drop removes it.
func scratch(ctx context.Context, c *cli, purpose string) (db *database, drop func(), err error) {
	u, err := url.Parse(c.Cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "eventdesk_bench_" + purpose + "_" + hex.EncodeToString(b)
	u.Path = "/" + name
	dsn := u.String()
	if err := postgres.EnsureDatabase(ctx, dsn); err != nil {
		return nil, nil, fmt.Errorf("bench needs the PostgreSQL server of EVENTDESK_DATABASE_URL: %w", err)
	}
	dropDB := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := postgres.DropDatabase(dctx, dsn, name); err != nil {
			c.Log.Warn("drop scratch database", "database", name, "err", err)
		}
	}
	sdb, err := postgres.Open(ctx, dsn, postgres.OpenOptions{MaxConns: max(c.Cfg.DBMaxConns, 40)})
	if err == nil {
		err = migrations.Up(ctx, sdb.DB)
	}
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	return &database{DB: sdb, URL: dsn}, func() { sdb.Close(); dropDB() }, nil
}

// startCPUProfile profiles this process's CPU to the file path until
// stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func bench(ctx context.Context, c *cli, o benchOptions) error {
	say := func(s string) { fmt.Fprintln(c.Stderr, "bench:", s) }
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, g := range o.only {
		if !slices.Contains([]string{"store", "http", "projections", "crm", "listener", "realtime"}, g) {
			return fmt.Errorf("--only: unknown figure group %q (want store, http, projections, crm, listener or realtime)", g)
		}
	}
	var figs []storebench.Figure
	var appendRate float64 // 0 when the store figures are not run
	if o.runs("store") {
		sdb, drop, err := scratch(ctx, c, "store")
		if err != nil {
			return err
		}
		// Dropped at the very end: DROP DATABASE forces a checkpoint, whose
		// writes would land in the middle of the next figure.
		defer drop()
		figs, err = storebench.Run(ctx, sdb.DB, storebench.Options{Connections: o.connections, Duration: o.duration,
			CatchUp: o.events, Progress: say, GroupCommit: c.Cfg.GroupCommit})
		if err != nil {
			return err
		}
		appendRate = figs[1].Rate
	}

	tdb, drop, err := scratch(ctx, c, "tickets")
	if err != nil {
		return err
	}
	defer drop()
	more, err := ticketBench(ctx, c, tdb, o, appendRate, say)
	if err != nil {
		return err
	}
	figs = append(figs, more...)
	if o.runs("crm") {
		crm, err := crmBench(ctx, c, o, say)
		if err != nil {
			return err
		}
		figs = append(figs, crm...)
	}
	if o.runs("listener") {
		lf, err := listenerBench(ctx, c, o, say)
		if err != nil {
			return err
		}
		figs = append(figs, lf...)
	}
	if o.runs("realtime") {
		rf, err := realtimeBench(ctx, c, o, say)
		figs = append(figs, rf...)
		if err != nil {
			_ = printFigures(c, figs)
			return err
		}
	}

	return printFigures(c, figs)
}

// printFigures prints figs as a table, then one JSON line each.
func printFigures(c *cli, figs []storebench.Figure) error {
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\trate\tunit\tp50 ms\tp99 ms\tops\tseconds\t")
	for _, f := range figs {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%.2f\t%.2f\t%d\t%.1f\t\n", f.Name, f.Rate, f.Unit, f.P50ms, f.P99ms, f.Ops, f.Seconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range figs {
		line, err := json.Marshal(f)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.Stdout, string(line))
	}
	return nil
}

// ticketBench measures the whole path over HTTP (create a ticket, log
// history on it), then the tickets.v1 projection's catch-up rate and the
// time to rebuild it over o.events events.
func ticketBench(ctx context.Context, c *cli, db *database, o benchOptions, appendRate float64, say func(string)) ([]storebench.Figure, error) {
	b, err := startBenchServer(ctx, c, db, "bench")
	if err != nil {
		return nil, err
	}
	defer b.close()
	e, tenant, creds := b.e, b.tenant, b.creds
	// The load generator shares the machine's cores with the server: it
	// sends bodies encoded once and reads back only the id it needs.
	client := b.client(o.clients)
	defer client.close()
	post := func(ctx context.Context, w int, path string, body []byte) (string, error) {
		status, rb, err := client.post(ctx, w, path, body)
		if err != nil {
			return "", err
		}
		if status != http.StatusCreated {
			return "", fmt.Errorf("POST %s: %d %s", path, status, rb)
		}
		var created struct {
			ID string `json:"id"`
		}
		return created.ID, json.Unmarshal(rb, &created)
	}
	createBody := []byte(`{"title":"Printer on fire","description":"Smoke","priority":"high"}`)
	historyBody := []byte(`{"type":"comment","value":{"text":"on it"}}`)
	var figs []storebench.Figure
	if o.runs("http") {
		say(fmt.Sprintf("HTTP: create ticket + log history, %d clients", o.clients))
		if err := storebench.Settle(ctx, db.DB.DB); err != nil {
			return nil, err
		}
		last := make([]string, o.clients)
		httpFig, err := storebench.Measure(ctx, "http_ticket_writes", o.clients, o.duration, func(ctx context.Context, w, i int) error {
			if i%2 == 0 {
				id, err := post(ctx, w, "/v1/tickets", createBody)
				last[w] = id
				return err
			}
			_, err := post(ctx, w, "/v1/tickets/"+last[w]+"/history", historyBody)
			return err
		})
		if err != nil {
			return nil, err
		}
		httpFig.Unit = "requests/s"
		httpFig.Extra = map[string]float64{"http_rps": httpFig.Rate}
		if appendRate > 0 {
			httpFig.Extra["append_tps"], httpFig.Extra["ratio"] = appendRate, httpFig.Rate/appendRate
		}

		say(fmt.Sprintf("HTTP: LeadSquared create ticket, %d clients", o.clients))
		if err := storebench.Settle(ctx, db.DB.DB); err != nil {
			return nil, err
		}
		lsqFig, err := leadSquaredBench(ctx, e, tenant.ID, creds, o)
		if err != nil {
			return nil, err
		}
		figs = append(figs, httpFig, lsqFig)
	}
	if !o.runs("projections") {
		return figs, nil
	}

	// Catch-up: with the runner stopped, load o.events ticket events, then
	// time a runner catching up on them.
	b.stopRunner()
	say(fmt.Sprintf("loading %d ticket events", o.events))
	head, err := loadTicketEvents(ctx, e.store, tenant.ID, o.events)
	if err != nil {
		return nil, err
	}
	say("tickets.v1 catch-up")
	catch, err := b.catchUp(ctx, "tickets_v1_catch_up", projections.TicketsName, ticket.StreamType, head, 3*time.Minute)
	if err != nil {
		return nil, err
	}

	say("tickets.v1 rebuild")
	total, err := e.store.Count(ctx, eventstore.Query{StreamType: ticket.StreamType}, 1<<62)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := e.runner.Rebuild(ctx, projections.TicketsName, nil); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	rebuild := storebench.Figure{Name: "tickets_v1_rebuild", Ops: total, Seconds: secs, Rate: float64(total) / secs, Unit: "events/s"}
	return append(figs, catch, rebuild), nil
}

// leadSquaredBench creates tickets through the LeadSquared surface with
// its documented sample body. Its limiter lets everything through, so the
// figure is the surface's own cost, limiter check included.
func leadSquaredBench(ctx context.Context, e *engine, tenant string, creds app.Credentials, o benchOptions) (storebench.Figure, error) {
	mux := http.NewServeMux()
	leadsquared.New(leadsquared.Deps{Tickets: e.Tickets, Tenants: e.Tenants,
		Limiter: leadsquared.NewMemoryLimiter(leadsquared.Limit{Calls: 1 << 30, Per: time.Second}, nil)}).Register(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return storebench.Figure{}, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close below
	defer srv.Close()
	path := "/api/tenants/" + tenant + "/ticket"
	client := newBenchClient(ln.Addr().String(), o.clients, map[string]string{"X-LSQ-ACCESS-KEY": creds.LSQAccessKey,
		"X-LSQ-SECRET-KEY": creds.LSQSecretKey, "Content-Type": "application/json"})
	defer client.close()
	body := []byte(leadsquared.SampleCreateTicket)
	f, err := storebench.Measure(ctx, "http_leadsquared_create", o.clients, o.duration, func(ctx context.Context, w, _ int) error {
		status, b, err := client.post(ctx, w, path, body)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("LeadSquared create: %d %s", status, b)
		}
		return nil
	})
	f.Unit = "requests/s"
	return f, err
}

// loadTicketEvents appends n ticket events: tickets of one creation and
// nineteen comments each, one append per ticket, from 8 writers. It
// returns the position of the last event appended.
func loadTicketEvents(ctx context.Context, store *postgres.Store, tenant string, n int) (eventstore.Position, error) {
	const perTicket = 20
	by := domain.Actor{Kind: domain.ActorAgent, ID: "bench"}
	at := time.Now().UTC()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		last eventstore.Position
	)
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1)
				if (k-1)*perTicket >= int64(n) {
					return
				}
				id := uuid.NewString()
				tk, err := ticket.New(ticket.CreateTicket{By: by, Source: domain.SourceAPI, ID: id, TenantID: tenant,
					Number: 1_000_000 + k, Title: fmt.Sprintf("Load ticket %d", k), Description: "generated by bench"},
					ticket.DefaultConfig(), at)
				if err != nil {
					errs <- err
					return
				}
				for i := 1; i < perTicket; i++ {
					if err := tk.LogHistory(ticket.LogHistory{By: by, Source: domain.SourceAPI, EntryID: uuid.NewString(),
						Type: ticket.HistoryComment, Value: json.RawMessage(fmt.Sprintf(`{"text":"comment %d"}`, i))}, at); err != nil {
						errs <- err
						return
					}
				}
				data, err := pendingTicketEvents(tk)
				if err != nil {
					errs <- err
					return
				}
				res, err := store.Append(ctx, eventstore.StreamRef{TenantID: tenant, Type: ticket.StreamType, ID: id},
					eventstore.NoStream, data)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if last.Less(res.Last()) {
					last = res.Last()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return last, errors.Join(<-errs)
}

// pendingTicketEvents encodes what tk recorded and has not stored, to be
// appended straight to the store (fresh event ids), as the bench's loaders
// do.
func pendingTicketEvents(tk *ticket.Ticket) ([]eventstore.EventData, error) {
	var data []eventstore.EventData
	for _, ev := range tk.Pending() {
		b, err := ticket.Encode(ev)
		if err != nil {
			return nil, err
		}
		data = append(data, eventstore.EventData{ID: uuid.NewString(), Type: ev.EventType(),
			SchemaVersion: ticket.Codec().Version(ev.EventType()), Data: b})
	}
	return data, nil
}
