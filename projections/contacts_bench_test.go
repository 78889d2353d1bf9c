package projections_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/projections"
)

// BenchmarkContactsCatchUp measures how fast contacts.v1 catches up with a
// log of customer events it has never seen: it loads a log of 50,000
// events once, then each iteration empties the projection's tables and
// checkpoint and times the runner until it reaches the head. It reports
// events/s for two logs: "created" holds one customer.created per customer
// (as cmd bench loads it: a row per event), "mixed" five events per
// customer (created, updated, a note, a linked ticket, a duplicate
// submission: four timeline rows and one customer row per five events).
func BenchmarkContactsCatchUp(b *testing.B) {
	for _, bb := range []struct {
		name      string
		customers int
		mixed     bool
	}{{"created", 50_000, false}, {"mixed", 10_000, true}} {
		b.Run(bb.name, func(b *testing.B) {
			f := newCRMFixture(b, projections.Contacts{})
			events := loadCustomerLog(b, f, "t1", bb.customers, bb.mixed)
			catchUp(b, f, events, bb.customers)
		})
	}
}

// catchUp times the catch-up. Besides events/s it reports what the
// catch-up cost in CPU, this process's and its database's server processes'
// (from /proc), as events per CPU-second: a figure that, unlike events/s,
// does not depend on what else the machine runs.
func catchUp(b *testing.B, f *crmFixture, events, customers int) {
	f.mu.Lock()
	head := f.last
	f.mu.Unlock()
	var total, cpu time.Duration
	for b.Loop() {
		if _, err := f.db.Exec(`TRUNCATE customer_list, customer_timeline; DELETE FROM checkpoints`); err != nil {
			b.Fatal(err)
		}
		before := cpuTimes(b, f)
		start := time.Now()
		stop := f.start(b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		err := f.runner.WaitFor(ctx, projections.ContactsName, head)
		cancel()
		total += time.Since(start)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		for pid, t := range cpuTimes(b, f) {
			cpu += t - before[pid]
		}
	}
	var rows int
	if err := f.db.Get(&rows, `SELECT count(*) FROM customer_list`); err != nil || rows != customers {
		b.Fatalf("customer_list has %d rows (%v), want %d", rows, err, customers)
	}
	b.ReportMetric(float64(events)*float64(b.N)/total.Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(events)*float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
}

// cpuTimes returns the CPU time used so far by this process (pid 0) and by
// each server process of the fixture's database, as /proc has them; none
// where /proc cannot be read (another OS, another host's server).
func cpuTimes(b *testing.B, f *crmFixture) map[int]time.Duration {
	var pids []int
	if err := f.db.Select(&pids, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		b.Fatal(err)
	}
	out := map[int]time.Duration{}
	for _, pid := range append(pids, 0) {
		path := "/proc/self/stat"
		if pid != 0 {
			path = "/proc/" + strconv.Itoa(pid) + "/stat"
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: utime and stime
		// are the 12th and 13th, in clock ticks (100 per second on Linux).
		fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(fields) < 13 {
			continue
		}
		u, err1 := strconv.ParseInt(fields[11], 10, 64)
		s, err2 := strconv.ParseInt(fields[12], 10, 64)
		if err1 == nil && err2 == nil {
			out[pid] = time.Duration(u+s) * 10 * time.Millisecond
		}
	}
	return out
}

// loadCustomerLog appends n customers' streams, 100 streams per atomic
// append (created only, or five events each if mixed), and returns the
// number of events appended.
func loadCustomerLog(b *testing.B, f *crmFixture, tenant string, n int, mixed bool) int {
	b.Helper()
	ctx := context.Background()
	at := noon
	ch := domain.Change{By: agent, Source: domain.SourceAPI, At: at}
	enc := func(e domain.Event) eventstore.EventData {
		data, err := customer.Encode(e)
		if err != nil {
			b.Fatal(err)
		}
		return eventstore.EventData{ID: uuid.NewString(), Type: e.EventType(), SchemaVersion: customer.Codec().Version(e.EventType()), Data: data}
	}
	events := 0
	for from := 0; from < n; from += 100 {
		var parts []eventstore.StreamAppend
		for k := from; k < min(from+100, n); k++ {
			id := uuid.NewString()
			email := fmt.Sprintf("bulk%d@example.com", k)
			p := customer.Profile{Name: fmt.Sprintf("Bulk %d", k), Emails: []customer.Email{{Type: "Work", Value: email}},
				Phones: []customer.Phone{{Value: fmt.Sprintf("0905%06d", k), Normalized: fmt.Sprintf("+84905%06d", k)}},
				Permit: domain.Permit{Kind: domain.PermitEverybody}}
			p2 := p
			p2.Tags = []string{"tag" + fmt.Sprint(k%10)}
			evs := []eventstore.EventData{
				enc(customer.CustomerCreated{Change: ch, ID: id, Kind: customer.Contact, Code: fmt.Sprintf("PID-%d", k+1), Profile: p})}
			if mixed {
				evs = append(evs, enc(customer.CustomerUpdated{Change: ch, Profile: p2}),
					enc(customer.NoteAdded{Change: ch, NoteID: uuid.NewString(), Body: "called about the invoice",
						Permit: domain.Permit{Kind: domain.PermitEverybody}}),
					enc(customer.TicketLinked{Change: ch, TicketID: uuid.NewString(), Number: int64(k), Title: "Printer on fire",
						Via: &customer.Identity{Kind: customer.ByEmail, Value: email}}),
					enc(customer.DuplicateSubmitted{Change: ch, Matched: []customer.Identity{{Kind: customer.ByEmail, Value: email}},
						Submitted: p}))
			}
			events += len(evs)
			parts = append(parts, eventstore.StreamAppend{Stream: eventstore.StreamRef{TenantID: tenant, Type: customer.StreamType, ID: id},
				Expected: eventstore.NoStream, Events: evs})
		}
		res, err := f.store.AppendStreams(ctx, parts)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if f.last.Less(r.Last()) {
				f.last = r.Last()
			}
		}
	}
	return events
}
