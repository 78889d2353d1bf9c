package projections_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/projections"
)

func TestSearchSupport(t *testing.T) {
	f := newFixture(t)
	f.start(t)
	client1, client2 := uuid.NewString(), uuid.NewString()
	one := f.create(t, "t1", "one", func(c *ticket.CreateTicket) {
		c.References = ticket.References{UserID: "79af4bc5-a995-4262-92ee-0da381ccaf07", DeviceID: "DEV-A",
			ContactEmail: "Ana@Example.com", ContactPhone: "+911111111111", ClientTicketID: client1}
	})
	two := f.create(t, "t1", "two", func(c *ticket.CreateTicket) {
		c.References = ticket.References{UserID: "11111111-2222-3333-4444-555555555555", DeviceID: "DEV-B",
			ContactEmail: "ana@example.com", ContactPhone: "+922222222222", ClientTicketID: client2, SupportTicketID: "Z-900"}
	})
	other := f.create(t, "t2", "other tenant", func(c *ticket.CreateTicket) {
		c.References = ticket.References{UserID: "79af4bc5-a995-4262-92ee-0da381ccaf07", ClientTicketID: client1}
	})
	f.catchUp(t)
	n1, n2 := fmt.Sprint(one.Snapshot().Number), fmt.Sprint(two.Snapshot().Number)

	tests := []struct {
		name string
		f    projections.SupportFilter
		want []string
	}{
		{"no filter: all of the tenant, newest first", projections.SupportFilter{}, []string{two.ID(), one.ID()}},
		{"user, any case", projections.SupportFilter{UserID: "79AF4BC5-A995-4262-92EE-0DA381CCAF07"}, []string{one.ID()}},
		{"device", projections.SupportFilter{DeviceID: "dev-b"}, []string{two.ID()}},
		{"e-mail matches both", projections.SupportFilter{Email: "ANA@example.com"}, []string{two.ID(), one.ID()}},
		{"phone", projections.SupportFilter{Phone: " +911111111111 "}, []string{one.ID()}},
		{"client ticket", projections.SupportFilter{ClientTicketID: strings.ToUpper(client2)}, []string{two.ID()}},
		{"support id falls back to the number", projections.SupportFilter{SupportTicketID: n1}, []string{one.ID()}},
		{"a linked support id replaces the number", projections.SupportFilter{SupportTicketID: n2}, nil},
		{"linked support id", projections.SupportFilter{SupportTicketID: "Z-900"}, []string{two.ID()}},
		{"AND", projections.SupportFilter{Email: "ana@example.com", DeviceID: "DEV-A"}, []string{one.ID()}},
		{"AND, none", projections.SupportFilter{UserID: "79af4bc5-a995-4262-92ee-0da381ccaf07", DeviceID: "DEV-B"}, nil},
		{"page", projections.SupportFilter{Limit: 1, Offset: 1}, []string{one.ID()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.TenantID = "t1"
			page, err := f.q.SearchSupport(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range page.Tickets {
				got = append(got, s.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if page, _ := f.q.SearchSupport(context.Background(), projections.SupportFilter{TenantID: "t1", Limit: 1}); !page.More {
		t.Errorf("first page of 1: More = false, want true")
	}

	s, err := f.q.TicketByClientID(context.Background(), "t2", strings.ToUpper(client1))
	if err != nil || s.ID != other.ID() {
		t.Errorf("TicketByClientID(t2) = %v, %v; want the other tenant's ticket", s.ID, err)
	}
	if _, err := f.q.TicketByClientID(context.Background(), "t2", client2); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("TicketByClientID of another tenant's ticket: err = %v, want ErrNotFound", err)
	}

	// The indexes survive a rebuild (shadow tables copy them) and the
	// planner uses them.
	if err := f.runner.Rebuild(context.Background(), projections.TicketsName, nil); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := f.db.QueryRow(`SELECT count(*) FROM pg_indexes WHERE tablename = 'ticket_list' AND indexdef LIKE '%references%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("support indexes on ticket_list after a rebuild = %d, want 6", n)
	}
	ctx := context.Background()
	conn, err := f.db.Conn(ctx) // one session, for the SET
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Generic plans, as the API's parameterised queries get: the equality
	// must imply each partial index's predicate.
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	for i, expr := range []string{`lower(doc->'references'->>'user_id')`, `lower(doc->'references'->>'device_id')`,
		`lower(doc->'references'->>'contact_email')`, `(doc->'references'->>'contact_phone')`,
		`lower(doc->'references'->>'client_ticket_id')`} {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PREPARE q%d(text, text) AS SELECT doc FROM ticket_list WHERE tenant_id = $1 AND %s = $2`, i, expr)); err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		rows, err := conn.QueryContext(ctx, fmt.Sprintf(`EXPLAIN EXECUTE q%d('t1', 'x')`, i))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		rows.Close()
		field := expr[strings.LastIndex(expr, ">>'")+3 : strings.LastIndex(expr, "'")]
		if !strings.Contains(plan.String(), "Index Cond") || !strings.Contains(plan.String(), "'"+field+"'::text)") {
			t.Errorf("plan of %s does not use its index:\n%s", expr, plan.String())
		}
	}
}
