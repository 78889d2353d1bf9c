package main

import (
	"context"
	"strings"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/domain/videoroom"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/realtime"
)

// streamAccess is realtime.Access over the application services: the
// gateway admits the callers the native API admits (app.Agents), and
// shows what the native API's reads show them (app.Services.Visible).
type streamAccess struct{ s *app.Services }

var (
	_ realtime.Access       = streamAccess{}
	_ realtime.Participants = streamAccess{}
)

// Connected implements realtime.Participants.
func (a streamAccess) Connected(ctx context.Context, tenant, room, identity, session string) error {
	return a.s.Rooms.Connected(ctx, tenant, room, identity, session)
}

// Disconnected implements realtime.Participants.
func (a streamAccess) Disconnected(ctx context.Context, tenant, room, identity, session string) error {
	return a.s.Rooms.Disconnected(ctx, tenant, room, identity, session)
}

// Authenticate implements realtime.Access.
func (a streamAccess) Authenticate(ctx context.Context, cred string, ticket bool) (realtime.Principal, error) {
	var (
		p   app.Principal
		err error
	)
	switch {
	case ticket:
		p, err = a.s.Agents.RedeemConnectTicket(ctx, cred)
	case strings.Count(cred, ".") == 2: // a video room's access token (a JWT)
		c, err := a.s.Rooms.VerifyAnyToken(ctx, cred)
		if err != nil {
			return realtime.Principal{}, err
		}
		return realtime.Principal{TenantID: c.Tenant, Room: c.Room, Member: realtime.Member{Kind: "participant", ID: c.Subject}}, nil
	default:
		p, err = a.s.Agents.Authenticate(ctx, cred)
	}
	if err != nil {
		return realtime.Principal{}, err
	}
	return a.principal(ctx, p)
}

// principal is the gateway's view of p: its viewer for permits, and an
// agent token's id to check again (Recheck).
func (a streamAccess) principal(ctx context.Context, p app.Principal) (realtime.Principal, error) {
	v, err := a.s.Groups.Viewer(ctx, p)
	if err != nil {
		return realtime.Principal{}, err
	}
	m := realtime.Member{Kind: "integration", ID: "api_key"}
	if p.Agent != nil {
		m = realtime.Member{Kind: "agent", ID: p.Agent.ID, Name: p.Agent.Name}
	}
	return realtime.Principal{TenantID: p.Tenant.ID, Viewer: v, Staff: true, Member: m, Credential: p.TokenID}, nil
}

// Recheck implements realtime.Access: an agent token's connection as the
// token, its agent and the agent's groups stand now.
func (a streamAccess) Recheck(ctx context.Context, p realtime.Principal) (realtime.Principal, error) {
	ap, err := a.s.Agents.TokenPrincipal(ctx, p.TenantID, p.Credential)
	if err != nil {
		return realtime.Principal{}, err
	}
	return a.principal(ctx, ap)
}

// Resolve implements realtime.Access.
func (a streamAccess) Resolve(ctx context.Context, p realtime.Principal, kind, ref string) (string, string, error) {
	switch kind {
	case "ticket":
		id, err := a.s.Tickets.Locate(ctx, p.TenantID, ref)
		if err != nil {
			return "", "", err
		}
		return ticket.StreamType, id, nil
	case "contact":
		c, _, err := a.s.Customers.Get(ctx, p.TenantID, ref)
		if err != nil {
			return "", "", err
		}
		if !c.Profile.Permit.Allows(p.Viewer, c.Profile.Owner) {
			return "", "", customer.ErrNotFound
		}
		return customer.StreamType, c.ID, nil
	case "video-room":
		r, err := a.s.Rooms.Get(ctx, p.TenantID, ref)
		if err != nil {
			return "", "", err
		}
		return videoroom.StreamType, r.UniqueName, nil
	}
	return "", "", &domain.Error{Kind: domain.NotFound, Code: "not_found", Msg: "no such topic"}
}

// Visible implements realtime.Access.
func (a streamAccess) Visible(ctx context.Context, p realtime.Principal, e *eventstore.Event) (bool, error) {
	return a.s.Visible(ctx, p.Viewer, p.Staff, e)
}
