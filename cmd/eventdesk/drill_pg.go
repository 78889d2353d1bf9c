package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/api/leadsquared"
)

// surfaceProbe is one request to one surface, and how to tell its
// surface's own error shape.
type surfaceProbe struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    any
	// shaped reports whether an error body is in the surface's shape and
	// says the service is unavailable.
	shaped func(ct string, body map[string]any) bool
}

// probes are a request on every surface, each needing the database.
func probes(t tenantCreated, ticketID, listenerURL string) []surfaceProbe {
	native := bearer(t.APIKey)
	keyed := bearer(t.APIKey)
	keyed["Idempotency-Key"] = "probe-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	return []surfaceProbe{
		{"native read", http.MethodGet, "/v1/tickets/" + ticketID, native, nil, problemShape},
		{"native keyed write", http.MethodPost, "/v1/tickets", keyed, map[string]any{"title": "probe"}, problemShape},
		{"fynd", http.MethodGet, "/service/application/lead/v1.0/ticket/" + ticketID,
			map[string]string{"Authorization": "Bearer " + t.FyndBearer}, nil,
			func(ct string, b map[string]any) bool { m, _ := b["message"].(string); return len(b) == 1 && m != "" }},
		{"leadsquared", http.MethodPost, fmt.Sprintf("/api/tenants/%d/ticket/%s/portal/activity", t.CompanyID, ticketID),
			map[string]string{leadsquared.HeaderAccessKey: t.LSQAccessKey, leadsquared.HeaderSecretKey: t.LSQSecretKey}, leadsquared.SampleActivity,
			func(ct string, b map[string]any) bool { return b["ExceptionType"] == "MXServiceUnavailableException" }},
		{"support", http.MethodPost, "/api/admin/fetch/customer/support", native, map[string]any{"page": 1},
			func(ct string, b map[string]any) bool {
				return b["error"] == true && b["message"] == "Service unavailable"
			}},
		{"listener", http.MethodPost, strings.TrimPrefix(listenerURL, "http://x"), nil, map[string]any{"event": "probe"},
			func(ct string, b map[string]any) bool {
				e, _ := b["error"].(map[string]any)
				return e["code"] == "database_unavailable"
			}},
	}
}

func problemShape(ct string, b map[string]any) bool {
	return strings.HasPrefix(ct, "application/problem+json") && b["status"] == float64(503) && b["code"] == "database_unavailable"
}

// probeOutcome tallies one surface's answers during an outage.
type probeOutcome struct {
	n, good int
	worst   time.Duration
	bad     string
}

func (o *probeOutcome) add(p surfaceProbe, a answer) {
	o.n++
	o.worst = max(o.worst, a.Took)
	var b map[string]any
	_ = json.Unmarshal(a.Body, &b)
	switch {
	case a.Err != nil:
		o.bad = fmt.Sprintf("no answer: %v", a.Err)
	case a.Status != http.StatusServiceUnavailable:
		o.bad = fmt.Sprintf("%d %.200s", a.Status, a.Body)
	case a.Header.Get("Retry-After") == "":
		o.bad = "503 without Retry-After"
	case !p.shaped(a.Header.Get("Content-Type"), b):
		o.bad = fmt.Sprintf("503 not in the surface's shape: %s %.200s", a.Header.Get("Content-Type"), a.Body)
	default:
		o.good++
	}
}

// quick is how fast a request must be answered while the database is down.
const quick = time.Second

// postgresDrill stops the private cluster under keyed load (pg_ctl stop
// -m fast: connections cut, new ones refused), probes every surface and
// /readyz while it is down, starts it again and times /readyz's return;
// then cuts every connection with pg_terminate_backend. The server must
// stay up, answer 503 with Retry-After in each surface's shape within a
// second, say 503 on /readyz meanwhile and 200 within a second of the
// database answering, and lose or strand nothing.
func postgresDrill(ctx context.Context, d *drillEnv, r *drillResult) error {
	outage := 6 * time.Second
	clients := 16
	if d.short {
		outage, clients = 3*time.Second, 8
	}
	n, t, err := d.startNode(ctx, "drill_pg")
	defer n.Kill()
	if err != nil {
		return err
	}
	ticketID, err := n.createTicket(ctx, t, "probe target")
	if err != nil {
		return err
	}
	a := do(ctx, http.MethodPost, n.Base()+"/v1/listeners", bearer(t.APIKey), map[string]any{"name": "drill"})
	var ln struct{ URL string }
	if a.Status != http.StatusCreated || json.Unmarshal(a.Body, &ln) != nil || ln.URL == "" {
		return fmt.Errorf("create a listener: %d %s", a.Status, a.Body)
	}
	listenerPath := ln.URL[strings.Index(ln.URL, "/hooks/"):]

	load := newKeyedLoad(n.Base(), t.APIKey, "pg")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); load.Run(ctx, clients, stop) }()
	time.Sleep(1500 * time.Millisecond)

	// The outage: the cluster stopped.
	down := time.Now()
	if err := d.tc.pg.Stop(ctx); err != nil {
		close(stop)
		<-done
		return err
	}
	stopTook := time.Since(down)
	down = time.Now() // the cluster is down from here on
	outcomes := map[string]*probeOutcome{}
	var readyNot, readyYes, readyN int
	var readyWorst time.Duration
	for time.Since(down) < outage || readyN < 3 {
		rd := do(ctx, http.MethodGet, n.Base()+"/readyz", nil, nil)
		readyN++
		readyWorst = max(readyWorst, rd.Took)
		if rd.Status == http.StatusServiceUnavailable {
			readyNot++
		} else {
			readyYes++
		}
		for _, p := range probes(t, ticketID, "http://x"+listenerPath) {
			o := outcomes[p.name]
			if o == nil {
				o = &probeOutcome{}
				outcomes[p.name] = o
			}
			o.add(p, do(ctx, p.method, n.Base()+p.path, p.headers, p.body))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := d.tc.pg.Start(ctx); err != nil {
		close(stop)
		<-done
		return err
	}
	up := time.Now()
	var readyAgain time.Duration
	for {
		if rd := do(ctx, http.MethodGet, n.Base()+"/readyz", nil, nil); rd.Status == http.StatusOK {
			readyAgain = time.Since(up)
			break
		}
		if time.Since(up) > 30*time.Second {
			readyAgain = time.Since(up)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)

	// The cut: every connection of the server terminated at once.
	cut, err := terminateBackends(ctx, d, "drill_pg")
	if err != nil {
		close(stop)
		<-done
		return err
	}
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	<-done

	r.fig("outage", "cluster stopped (pg_ctl stop -m fast, %s) for %s under %d clients; then %d connections cut", ms(stopTook), outage, clients, cut)
	for _, p := range probes(t, ticketID, listenerPath) {
		o := outcomes[p.name]
		if o == nil {
			r.failf("%s was never probed during the outage", p.name)
			continue
		}
		r.fig("  "+p.name, "%d/%d answered 503 + Retry-After in shape, slowest %s", o.good, o.n, ms(o.worst))
		r.check(o.good == o.n, "%s during the outage: %s", p.name, o.bad)
		r.check(o.worst <= quick, "%s during the outage: slowest answer %s, want at most %s", p.name, o.worst, quick)
	}
	r.fig("/readyz during the outage", "%d/%d answered 503, slowest %s", readyNot, readyN, ms(readyWorst))
	r.check(readyYes == 0, "/readyz answered other than 503 %d times while the database was down", readyYes)
	r.fig("/readyz 200 after the database answers", "%s", ms(readyAgain))
	r.check(readyAgain <= time.Second, "/readyz took %s to answer 200 after the database came back, want at most 1s", readyAgain)
	r.fig("5xx seen by the writers", "%s", load.Statuses())
	r.check(!strings.Contains(load.Statuses(), "500"), "writers saw a 500: %s", load.Statuses())
	r.check(n.Alive() && n.Starts == 1, "the server did not stay up")

	db, err := load.verifyOn(ctx, n, t.ID, r)
	if err != nil {
		return err
	}
	defer db.Close()
	took, err := caughtUp(ctx, db, 10*time.Second)
	r.check(err == nil, "projection checkpoints stranded: %v", err)
	r.fig("projections caught up", "%s after the load", ms(took))
	stuck, err := count(ctx, db, `SELECT count(*) FROM outbox_messages WHERE status = 'pending' AND created_at < now() - interval '30 seconds'`)
	if err != nil {
		return err
	}
	r.check(stuck == 0, "%d outbox messages stranded in pending", stuck)
	return nil
}

// terminateBackends cuts every connection to database db of the private
// cluster and returns how many there were.
func terminateBackends(ctx context.Context, d *drillEnv, db string) (int, error) {
	admin, err := (&node{env: []string{"EVENTDESK_DATABASE_URL=" + d.tc.pg.URL("postgres")}}).openDB()
	if err != nil {
		return 0, err
	}
	defer admin.Close()
	return count(ctx, admin, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()) t`, db)
}
