package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
)

// Principal is who an authenticated request acts as: a tenant, through its
// API key (Agent nil: full access) or through one of its agents' personal
// tokens. Every surface that takes bearer tokens gets one from
// Agents.Authenticate, so that the REST API and the realtime gateway
// admit the same callers.
type Principal struct {
	Tenant Tenant
	// Agent is the agent whose token authenticated the request, as it was
	// then; nil for the tenant's API key.
	Agent *agent.Snapshot
	// TokenID is the id of the agent token used; empty for the API key.
	TokenID string
}

// Admin reports whether p may manage the tenant's agents, groups and
// tokens and see every record: the API key, or an agent with role admin.
func (p Principal) Admin() bool { return p.Agent == nil || p.Agent.Role == agent.Admin }

// Actor returns who p's writes are attributed to: the agent, or the API key
// as an integration.
func (p Principal) Actor() domain.Actor {
	if p.Agent != nil {
		return p.Agent.Actor()
	}
	return domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}
}

// ErrForbidden: the caller is authenticated but may not do this (an
// agent's token without the admin role managing agents or groups).
var ErrForbidden = &domain.Error{Kind: domain.Forbidden, Code: "forbidden", Msg: "this needs the tenant API key or an admin agent's token"}

// RequireAdmin returns ErrForbidden unless p is an admin (see Admin).
func (p Principal) RequireAdmin() error {
	if !p.Admin() {
		return ErrForbidden
	}
	return nil
}

// agentTokenPrefix starts every agent token, so that a token says which
// table to look in (tenant API keys start "edk_").
const agentTokenPrefix = "eda_"

// Authenticate resolves a bearer token — a tenant's API key or an agent's
// personal token — to the principal it stands for. Unknown, revoked and
// empty tokens, and the tokens of deactivated agents, are
// ErrUnauthenticated. Agent tokens are checked against the database on
// every call (no cache), so revocation and deactivation take effect at
// once. It is safe for concurrent use.
func (s *Agents) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, agentTokenPrefix) {
		t, err := s.tenants.ByAPIKey(ctx, token)
		if err != nil {
			return Principal{}, err
		}
		return Principal{Tenant: t}, nil
	}
	tenantID, agentID, tokenID, err := s.tokens.resolve(ctx, token, s.now())
	if err != nil {
		return Principal{}, err
	}
	return s.agentPrincipal(ctx, tenantID, agentID, tokenID)
}

// agentPrincipal is the principal of an agent token already found
// unrevoked: ErrUnauthenticated if its agent is gone or deactivated.
func (s *Agents) agentPrincipal(ctx context.Context, tenantID, agentID, tokenID string) (Principal, error) {
	t, err := s.tenants.ByID(ctx, tenantID)
	if err != nil {
		return Principal{}, err
	}
	a, err := s.Get(ctx, tenantID, agentID)
	if errors.Is(err, agent.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if !a.Active {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Tenant: t, Agent: &a, TokenID: tokenID}, nil
}

// Token is an agent's personal API token as listed: never its secret.
type Token struct {
	ID         string     `json:"id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// NewToken is a token just issued: the only time its secret is shown.
type NewToken struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"created_at"`
}

// ErrTokenNotFound: no such token of the agent.
var ErrTokenNotFound = &domain.Error{Kind: domain.NotFound, Code: "token_not_found", Msg: "token not found"}

// CreateToken issues a personal API token to an active agent of tenant.
// Only its digest is kept (as for tenant API keys), so it is shown once.
func (s *Agents) CreateToken(ctx context.Context, tenant, agentID string) (NewToken, error) {
	a, err := s.Get(ctx, tenant, agentID)
	if err != nil {
		return NewToken{}, err
	}
	if !a.Active {
		return NewToken{}, agent.ErrInactive
	}
	t := NewToken{ID: NewID(), Token: agentTokenPrefix + secret(), CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	if _, err := s.tokens.db.ExecContext(ctx, `INSERT INTO agent_tokens (token_id, tenant_id, agent_id, secret_hash, created_at)
		VALUES ($1, $2, $3, $4, $5)`, t.ID, tenant, agentID, digest(t.Token), t.CreatedAt); err != nil {
		return NewToken{}, fmt.Errorf("create agent token: %w", err)
	}
	return t, nil
}

// Tokens lists the agent's tokens that are not revoked, oldest first.
func (s *Agents) Tokens(ctx context.Context, tenant, agentID string) ([]Token, error) {
	if _, err := s.Get(ctx, tenant, agentID); err != nil {
		return nil, err
	}
	rows, err := s.tokens.db.QueryContext(ctx, `SELECT token_id, created_at, last_used_at FROM agent_tokens
		WHERE tenant_id = $1 AND agent_id = $2 AND revoked_at IS NULL ORDER BY created_at, token_id`, tenant, agentID)
	if err != nil {
		return nil, fmt.Errorf("list agent tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.ID, &t.CreatedAt, &t.LastUsedAt); err != nil {
			return nil, err
		}
		t.CreatedAt = t.CreatedAt.UTC()
		if t.LastUsedAt != nil {
			u := t.LastUsedAt.UTC()
			t.LastUsedAt = &u
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of the agent's tokens at once. An unknown token
// (or one already revoked) is ErrTokenNotFound.
func (s *Agents) RevokeToken(ctx context.Context, tenant, agentID, tokenID string) error {
	if _, err := s.Get(ctx, tenant, agentID); err != nil {
		return err
	}
	if !domain.ValidUUID(tokenID) {
		return ErrTokenNotFound
	}
	res, err := s.tokens.db.ExecContext(ctx, `UPDATE agent_tokens SET revoked_at = $4
		WHERE tenant_id = $1 AND agent_id = $2 AND token_id = $3 AND revoked_at IS NULL`, tenant, agentID, tokenID, s.now().UTC())
	if err != nil {
		return fmt.Errorf("revoke agent token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrTokenNotFound
	}
	return nil
}

// tokens is the agent_tokens table.
type tokens struct{ db *sql.DB }

// lastUsedStep is how stale last_used_at may be: it is written at most once
// per step and token, not on every request.
const lastUsedStep = time.Minute

// resolve finds the unrevoked token whose digest matches and notes its
// use.
func (t *tokens) resolve(ctx context.Context, token string, now time.Time) (tenantID, agentID, tokenID string, err error) {
	var last sql.NullTime
	err = t.db.QueryRowContext(ctx, `SELECT tenant_id, agent_id, token_id, last_used_at FROM agent_tokens
		WHERE secret_hash = $1 AND revoked_at IS NULL`, digest(token)).Scan(&tenantID, &agentID, &tokenID, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", ErrUnauthenticated
	}
	if err != nil {
		return "", "", "", fmt.Errorf("authenticate agent token: %w", err)
	}
	if !last.Valid || now.Sub(last.Time) >= lastUsedStep {
		if _, err := t.db.ExecContext(ctx, `UPDATE agent_tokens SET last_used_at = $2 WHERE token_id = $1`, tokenID, now.UTC()); err != nil {
			return "", "", "", fmt.Errorf("note agent token use: %w", err)
		}
	}
	return tenantID, agentID, tokenID, nil
}

// Viewer returns who p reads as, for permits: an admin (the API key or an
// admin agent) sees everything; any other agent sees what its permits and
// the groups it belongs to allow.
func (s *Groups) Viewer(ctx context.Context, p Principal) (domain.Viewer, error) {
	if p.Admin() {
		return domain.Viewer{Admin: true}, nil
	}
	groups, err := s.Of(ctx, p.Tenant.ID, p.Agent.ID)
	if err != nil {
		return domain.Viewer{}, err
	}
	return domain.Viewer{Agent: p.Agent.ID, Groups: groups}, nil
}

// Of returns the ids of tenant's groups agentID belongs to.
func (s *Groups) Of(ctx context.Context, tenant, agentID string) ([]string, error) {
	groups, err := s.List(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, g := range groups {
		if slices.Contains(g.Members, agentID) {
			ids = append(ids, g.ID)
		}
	}
	return ids, nil
}
