package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/identity"
	"github.com/eventdesk/eventdesk/domain/listener"
	"github.com/eventdesk/eventdesk/domain/outbox"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/domain/videoroom"
	"github.com/eventdesk/eventdesk/eventstore"
)

// ConnectTicketTTL is how long a realtime connect ticket may wait to be
// redeemed.
const ConnectTicketTTL = 30 * time.Second

// connectTicketPrefix starts every connect ticket, so that it is never
// mistaken for an API key or an agent token.
const connectTicketPrefix = "edt_"

// IssueConnectTicket issues a one-time ticket that lets a browser, which
// cannot set headers on a websocket, open the realtime stream as p:
// valid ConnectTicketTTL, redeemable once (RedeemConnectTicket), on any
// node. Only its digest is stored.
func (s *Agents) IssueConnectTicket(ctx context.Context, p Principal) (string, time.Time, error) {
	t := connectTicketPrefix + secret()
	exp := s.now().UTC().Add(ConnectTicketTTL).Truncate(time.Microsecond)
	var tokenID sql.NullString
	if p.Agent != nil {
		tokenID = sql.NullString{String: p.TokenID, Valid: true}
	}
	// Expired tickets go as new ones come, in the same statement: the table
	// stays as small as the tickets of the last half minute.
	if _, err := s.tokens.db.ExecContext(ctx, `WITH expired AS (DELETE FROM stream_tickets WHERE expires_at < $5)
		INSERT INTO stream_tickets (ticket_hash, tenant_id, token_id, expires_at) VALUES ($1, $2, $3, $4)`,
		digest(t), p.Tenant.ID, tokenID, exp, s.now().UTC()); err != nil {
		return "", time.Time{}, fmt.Errorf("issue connect ticket: %w", err)
	}
	return t, exp, nil
}

// RedeemConnectTicket consumes a ticket from IssueConnectTicket and
// returns the principal it was issued to, checked again now (a revoked
// token or a deactivated agent is refused). An unknown, expired or already
// redeemed ticket is ErrUnauthenticated. Deleting the row is the
// redemption, so two nodes cannot both redeem one ticket.
func (s *Agents) RedeemConnectTicket(ctx context.Context, t string) (Principal, error) {
	if !strings.HasPrefix(t, connectTicketPrefix) {
		return Principal{}, ErrUnauthenticated
	}
	var (
		tenantID string
		tokenID  sql.NullString
		exp      time.Time
	)
	err := s.tokens.db.QueryRowContext(ctx, `DELETE FROM stream_tickets WHERE ticket_hash = $1
		RETURNING tenant_id, token_id, expires_at`, digest(t)).Scan(&tenantID, &tokenID, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("redeem connect ticket: %w", err)
	}
	if !s.now().Before(exp) {
		return Principal{}, ErrUnauthenticated
	}
	if !tokenID.Valid {
		tn, err := s.tenants.ByID(ctx, tenantID)
		if err != nil {
			return Principal{}, err
		}
		return Principal{Tenant: tn}, nil
	}
	return s.TokenPrincipal(ctx, tenantID, tokenID.String)
}

// TokenPrincipal is the principal of agent token tokenID of tenantID as it
// stands now, for a connection that outlives the request that
// authenticated it (a websocket checks its token again with it):
// ErrUnauthenticated once the token is revoked or its agent deactivated
// or deleted, else with the agent as it is now (its role may have
// changed).
func (s *Agents) TokenPrincipal(ctx context.Context, tenantID, tokenID string) (Principal, error) {
	var agentID string
	err := s.tokens.db.QueryRowContext(ctx, `SELECT agent_id FROM agent_tokens
		WHERE token_id = $1 AND tenant_id = $2 AND revoked_at IS NULL`, tokenID, tenantID).Scan(&agentID)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("agent token: %w", err)
	}
	return s.agentPrincipal(ctx, tenantID, agentID, tokenID)
}

// adminStreams are the stream types only admins see (their native routes
// are admin-only too): webhook listeners and the outbox.
var adminStreams = map[string]bool{listener.StreamType: true, listener.IndexStreamType: true, outbox.StreamType: true}

// guarded is what Visible reads of any event's data: a history entry's
// visibility, a note's owner and permit.
type guarded struct {
	Visibility ticket.Visibility `json:"visibility"`
	Customer   string            `json:"customer"` // an identity's holder
	Owner      string            `json:"owner"`
	Permit     *domain.Permit    `json:"permit"`
}

// Visible reports whether a reader may see e in a live stream, by the
// rules of the native API's reads: internal ticket history only to staff
// (staff is false for video-room participants, who are not the tenant's
// people); a customer's or a deal's events, and their notes, only to
// viewers their permits allow (viewer as Groups.Viewer returns it);
// an identity's claims only to viewers who may see its holder;
// listeners and the outbox only to admins. It reads the record's current
// permit, so a record hidden since is hidden in its older events too.
func (s *Services) Visible(ctx context.Context, viewer domain.Viewer, staff bool, e *eventstore.Event) (bool, error) {
	switch {
	case staff && viewer.Admin: // the most common reader decodes nothing
		return true, nil
	case staff && adminStreams[e.StreamType]:
		return false, nil
	}
	return s.visibleByPermit(ctx, viewer, staff, e)
}

// visibleByPermit is Visible for a reader who is not an admin. It is a
// function of its own because its frame is large (the data decoded, a
// customer or deal read): a websocket subscription's goroutine calls
// Visible for every event it pushes, and the admin's answer above must
// not grow that goroutine's stack.
func (s *Services) visibleByPermit(ctx context.Context, viewer domain.Viewer, staff bool, e *eventstore.Event) (bool, error) {
	var g guarded
	switch e.StreamType {
	case ticket.StreamType, customer.StreamType, deal.StreamType, identity.StreamType:
		_ = json.Unmarshal(e.Data, &g) // data the store accepted; a shape without these members hides nothing
	}
	switch {
	case !staff: // a video participant: its room's events, never an internal entry
		return e.StreamType == videoroom.StreamType && g.Visibility != ticket.Internal, nil
	case g.Permit != nil && !g.Permit.Allows(viewer, g.Owner):
		return false, nil
	}
	switch e.StreamType {
	case customer.StreamType, identity.StreamType: // an identity (e-mail, phone, code) shows its holder's
		id := e.StreamID
		if e.StreamType == identity.StreamType {
			id = g.Customer
		}
		if id == "" {
			return false, nil
		}
		c, _, err := s.Customers.Get(ctx, e.TenantID, id)
		if errors.Is(err, customer.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return c.Profile.Permit.Allows(viewer, c.Profile.Owner), nil
	case deal.StreamType:
		d, _, err := s.Deals.Get(ctx, e.TenantID, e.StreamID)
		if errors.Is(err, deal.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return d.Permit.Allows(viewer, d.Owner), nil
	}
	return true, nil
}
