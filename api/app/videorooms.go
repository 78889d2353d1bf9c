package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/videoroom"
	"github.com/eventdesk/eventdesk/eventstore"
)

var roomKind = kind[*videoroom.Room]{encode: videoroom.Encode, decode: videoroom.Decode, rehydrate: videoroom.Rehydrate}

// TokenTTL is how long a video-room access token is valid.
const TokenTTL = time.Hour

// VideoRooms runs video-room commands and issues access tokens.
type VideoRooms struct {
	store   eventstore.Store
	rooms   *repository[*videoroom.Room]
	tickets *Tickets
	tenants *Tenants
	now     func() time.Time
}

// NewVideoRooms returns the video-room service.
func NewVideoRooms(store eventstore.Store, tickets *Tickets, tenants *Tenants, now func() time.Time) *VideoRooms {
	if now == nil {
		now = time.Now
	}
	return &VideoRooms{store: store, rooms: newRepository(roomKind, store), tickets: tickets, tenants: tenants, now: now}
}

func roomStream(tenant, name string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: videoroom.StreamType, ID: name}
}

// Open opens (or re-opens) the video room of ticket ref. A ticket has one
// room, named by the ticket's id, so opening it twice is harmless.
func (s *VideoRooms) Open(ctx context.Context, tenant, ref string, m Meta) (videoroom.Snapshot, eventstore.Position, error) {
	t, _, err := s.tickets.Load(ctx, tenant, ref)
	if err != nil {
		return videoroom.Snapshot{}, eventstore.Position{}, err
	}
	return s.run(ctx, tenant, t.ID(), m, func(r *videoroom.Room, at time.Time) error {
		return r.Open(videoroom.OpenRoom{By: m.By, Source: m.Source, UniqueName: t.ID(), TicketID: t.ID()}, at)
	})
}

func (s *VideoRooms) run(ctx context.Context, tenant, name string, m Meta,
	decide func(*videoroom.Room, time.Time) error) (videoroom.Snapshot, eventstore.Position, error) {
	if !videoroom.ValidUniqueName(name) {
		return videoroom.Snapshot{}, eventstore.Position{}, videoroom.ErrNotFound
	}
	m.IfVersion = nil // rooms are not versioned for clients
	o, err := s.rooms.run(ctx, roomStream(tenant, name), s.now, m, decide)
	if err != nil {
		return videoroom.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// Get returns a room; an unknown one is videoroom.ErrNotFound.
func (s *VideoRooms) Get(ctx context.Context, tenant, name string) (videoroom.Snapshot, error) {
	if !videoroom.ValidUniqueName(name) {
		return videoroom.Snapshot{}, videoroom.ErrNotFound
	}
	r, _, err := s.rooms.load(ctx, roomStream(tenant, name))
	if err != nil {
		return videoroom.Snapshot{}, err
	}
	if !r.Exists() {
		return videoroom.Snapshot{}, videoroom.ErrNotFound
	}
	return r.Snapshot(), nil
}

// Join connects identity (as user, or as the actor when nil).
func (s *VideoRooms) Join(ctx context.Context, tenant, name, identity string, user *domain.Actor, m Meta) (videoroom.Snapshot, eventstore.Position, error) {
	return s.run(ctx, tenant, name, m, func(r *videoroom.Room, at time.Time) error {
		return r.Join(videoroom.JoinRoom{By: m.By, Source: m.Source, Identity: identity, User: user}, at)
	})
}

// Leave disconnects identity.
func (s *VideoRooms) Leave(ctx context.Context, tenant, name, identity string, m Meta) (videoroom.Snapshot, eventstore.Position, error) {
	return s.run(ctx, tenant, name, m, func(r *videoroom.Room, at time.Time) error {
		return r.Leave(videoroom.LeaveRoom{By: m.By, Source: m.Source, Identity: identity}, at)
	})
}

// Close ends the room's session.
func (s *VideoRooms) Close(ctx context.Context, tenant, name string, m Meta) (videoroom.Snapshot, eventstore.Position, error) {
	return s.run(ctx, tenant, name, m, func(r *videoroom.Room, at time.Time) error {
		return r.Close(videoroom.CloseRoom{By: m.By, Source: m.Source}, at)
	})
}

// TokenClaims are what a video access token says: who may join which room
// of which tenant, until when.
type TokenClaims struct {
	Room   string `json:"room"`
	Tenant string `json:"tenant"`
	jwt.RegisteredClaims
}

// Token issues a short-lived access token (an HS256 JWT signed with the
// tenant's video secret) for identity to join room name, if it may.
func (s *VideoRooms) Token(ctx context.Context, tenant, name, identity string) (string, time.Time, error) {
	if !videoroom.ValidUniqueName(name) {
		return "", time.Time{}, videoroom.ErrNotFound
	}
	r, _, err := s.rooms.load(ctx, roomStream(tenant, name))
	if err != nil {
		return "", time.Time{}, err
	}
	if err := r.CanJoin(identity); err != nil {
		return "", time.Time{}, err
	}
	secret, err := s.tenants.VideoSecret(ctx, tenant)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	exp := now.Add(TokenTTL)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, TokenClaims{Room: name, Tenant: tenant, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "eventdesk", Subject: identity, Audience: jwt.ClaimStrings{"video"}, ID: uuid.NewString(),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}}).SignedString(secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign video token: %w", err)
	}
	return tok, exp, nil
}

// VerifyToken checks a token issued by Token for the tenant and returns
// its claims.
func (s *VideoRooms) VerifyToken(ctx context.Context, tenant, token string) (TokenClaims, error) {
	secret, err := s.tenants.VideoSecret(ctx, tenant)
	if err != nil {
		return TokenClaims{}, err
	}
	var c TokenClaims
	_, err = jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience("video"), jwt.WithIssuer("eventdesk"), jwt.WithTimeFunc(s.now))
	if err != nil || c.Tenant != tenant {
		return TokenClaims{}, fmt.Errorf("video token: invalid: %v", err)
	}
	return c, nil
}

// VerifyAnyToken checks a token issued by Token, whichever tenant issued
// it: the tenant it names is read first, then the signature is checked
// with that tenant's secret. A malformed, forged or expired token (or one
// naming an unknown tenant) is ErrUnauthenticated.
func (s *VideoRooms) VerifyAnyToken(ctx context.Context, token string) (TokenClaims, error) {
	var unverified TokenClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &unverified); err != nil || unverified.Tenant == "" {
		return TokenClaims{}, ErrUnauthenticated
	}
	if _, err := s.tenants.ByID(ctx, unverified.Tenant); err != nil {
		return TokenClaims{}, ErrUnauthenticated
	}
	c, err := s.VerifyToken(ctx, unverified.Tenant, token)
	if err != nil {
		return TokenClaims{}, ErrUnauthenticated
	}
	return c, nil
}

// Connected and Disconnected record, for the realtime gateway, that a
// participant's socket session (a connection of identity to room)
// started or ended: participant joined, participant left. Their event ids
// derive from the session, so whichever nodes notice a session's end
// (the one holding the socket, or any node seeing its heartbeat expire),
// it is recorded once. Leaving a room the identity is no longer in, or a
// closed room, records nothing and is not an error.
func (s *VideoRooms) Connected(ctx context.Context, tenant, room, identity, session string) error {
	user := domain.Actor{Kind: domain.ActorUser, ID: identity}
	_, _, err := s.Join(ctx, tenant, room, identity, &user, sessionMeta(identity, "video-join/"+session))
	return err
}

// Disconnected: see Connected.
func (s *VideoRooms) Disconnected(ctx context.Context, tenant, room, identity, session string) error {
	_, _, err := s.Leave(ctx, tenant, room, identity, sessionMeta(identity, "video-leave/"+session))
	if errors.Is(err, videoroom.ErrParticipantNotFound) || errors.Is(err, videoroom.ErrClosed) || errors.Is(err, videoroom.ErrNotFound) {
		return nil
	}
	return err
}

func sessionMeta(identity, seed string) Meta {
	return Meta{By: domain.Actor{Kind: domain.ActorUser, ID: identity}, Source: domain.SourceAPI,
		Principal: "video_token", Idempotency: seed}
}
