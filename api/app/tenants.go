package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/tenant"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Tenant is an organisation using Eventdesk. Every stream, event and read
// model belongs to exactly one.
type Tenant struct {
	ID        string    `json:"tenant_id"`
	Name      string    `json:"name"`
	CompanyID int64     `json:"company_id"`
	CreatedAt time.Time `json:"created_at"`
}

// Credentials are a tenant's keys for each API surface, shown once at
// creation; only their hashes are kept.
type Credentials struct {
	APIKey               string `json:"api_key"`
	FyndApplicationID    string `json:"fynd_application_id"`
	FyndApplicationToken string `json:"fynd_application_token"`
	LSQAccessKey         string `json:"leadsquared_access_key"`
	LSQSecretKey         string `json:"leadsquared_secret_key"`
}

// Credential kinds in tenant_credentials.
const (
	credAPIKey      = "api_key"
	credFynd        = "fynd"
	credLeadSquared = "leadsquared"
	credVideo       = "video_secret"
)

// ErrUnauthenticated: no tenant has these credentials (or none were
// given). It is a domain error of kind Unauthenticated, so every surface
// answers it as its 401; match it with errors.Is.
var ErrUnauthenticated = &domain.Error{Kind: domain.Unauthenticated, Code: "unauthenticated", Msg: "missing or invalid credentials"}

// Tenants creates tenants and authenticates their credentials.
type Tenants struct {
	db    *sql.DB
	store eventstore.Store
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cached // credential digest -> tenant
}

type cached struct {
	tenant Tenant
	until  time.Time
}

// cacheTTL bounds how long a verified credential is trusted without a
// database round trip.
const cacheTTL = 30 * time.Second

// NewTenants returns the tenant service.
func NewTenants(db *sql.DB, store eventstore.Store, now func() time.Time) *Tenants {
	if now == nil {
		now = time.Now
	}
	return &Tenants{db: db, store: store, now: now, cache: map[string]cached{}}
}

// MaxTenantNameLength bounds a tenant's name, in bytes.
const MaxTenantNameLength = 200

// Create makes a tenant named name and returns it with fresh credentials.
func (s *Tenants) Create(ctx context.Context, name string) (Tenant, Credentials, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxTenantNameLength || !utf8.ValidString(name) {
		return Tenant{}, Credentials{}, domain.Invalidf("name", "name must be 1..%d bytes of UTF-8", MaxTenantNameLength)
	}
	t := Tenant{ID: uuid.NewString(), Name: name, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	created := tenant.TenantCreated{Name: name, At: t.CreatedAt} // no credentials: see package tenant
	data, err := tenant.Encode(created)
	if err != nil {
		return Tenant{}, Credentials{}, fmt.Errorf("create tenant: %w", err)
	}
	_, err = s.store.Append(ctx, eventstore.StreamRef{TenantID: t.ID, Type: tenant.StreamType, ID: t.ID}, eventstore.NoStream,
		[]eventstore.EventData{{ID: uuid.NewString(), Type: created.EventType(), SchemaVersion: tenant.Codec().Version(created.EventType()),
			Data: data, Metadata: eventstore.Metadata{Actor: "system:cli", Source: "cli"}}})
	if err != nil {
		return Tenant{}, Credentials{}, fmt.Errorf("create tenant: %w", err)
	}
	c := Credentials{
		APIKey:               "edk_" + secret(),
		FyndApplicationID:    strings.ReplaceAll(uuid.NewString(), "-", "")[:24],
		FyndApplicationToken: secret(),
		LSQAccessKey:         "u$r" + strings.ReplaceAll(uuid.NewString(), "-", ""),
		LSQSecretKey:         secret(),
	}
	videoSecret := make([]byte, 32)
	_, _ = rand.Read(videoSecret)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Tenant{}, Credentials{}, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := tx.QueryRowContext(ctx, `INSERT INTO tenants (tenant_id, name, created_at) VALUES ($1, $2, $3) RETURNING company_id`,
		t.ID, t.Name, t.CreatedAt).Scan(&t.CompanyID); err != nil {
		return Tenant{}, Credentials{}, fmt.Errorf("create tenant: %w", err)
	}
	for _, row := range []struct {
		kind, keyID string
		hash, raw   []byte
	}{
		{credAPIKey, "", digest(c.APIKey), nil},
		{credFynd, c.FyndApplicationID, digest(c.FyndApplicationToken), nil},
		{credLeadSquared, c.LSQAccessKey, digest(c.LSQSecretKey), nil},
		{credVideo, "", nil, videoSecret},
	} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_credentials (tenant_id, kind, key_id, secret_hash, secret) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, row.kind, row.keyID, row.hash, row.raw); err != nil {
			return Tenant{}, Credentials{}, fmt.Errorf("create tenant credentials: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Tenant{}, Credentials{}, err
	}
	return t, c, nil
}

func secret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func digest(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// List returns every tenant, oldest first.
func (s *Tenants) List(ctx context.Context) ([]Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, name, company_id, created_at FROM tenants ORDER BY company_id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		var t Tenant
		if err := rows.Scan(&t.ID, &t.Name, &t.CompanyID, &t.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ByAPIKey returns the tenant whose native API key is key.
func (s *Tenants) ByAPIKey(ctx context.Context, key string) (Tenant, error) {
	return s.lookup(ctx, credAPIKey, "", key)
}

// ByFynd returns the tenant with Fynd application credentials id:token.
func (s *Tenants) ByFynd(ctx context.Context, id, token string) (Tenant, error) {
	return s.lookup(ctx, credFynd, id, token)
}

// ByLeadSquared returns the tenant with LeadSquared access and secret keys.
func (s *Tenants) ByLeadSquared(ctx context.Context, access, secret string) (Tenant, error) {
	return s.lookup(ctx, credLeadSquared, access, secret)
}

// ByID returns the tenant with id, or ErrUnauthenticated.
func (s *Tenants) ByID(ctx context.Context, id string) (Tenant, error) {
	var t Tenant
	err := s.db.QueryRowContext(ctx, `SELECT tenant_id, name, company_id, created_at FROM tenants WHERE tenant_id = $1`, id).
		Scan(&t.ID, &t.Name, &t.CompanyID, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, ErrUnauthenticated
	}
	return t, err
}

func (s *Tenants) lookup(ctx context.Context, kind, keyID, secret string) (Tenant, error) {
	if secret == "" {
		return Tenant{}, ErrUnauthenticated
	}
	h := digest(secret)
	ck := kind + "\x00" + keyID + "\x00" + string(h)
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[ck]
	s.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.tenant, nil
	}
	var t Tenant
	err := s.db.QueryRowContext(ctx, `SELECT t.tenant_id, t.name, t.company_id, t.created_at
		FROM tenant_credentials c JOIN tenants t USING (tenant_id)
		WHERE c.kind = $1 AND c.key_id = $2 AND c.secret_hash = $3`, kind, keyID, h).
		Scan(&t.ID, &t.Name, &t.CompanyID, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, ErrUnauthenticated
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("authenticate: %w", err)
	}
	s.mu.Lock()
	if len(s.cache) > 10_000 {
		clear(s.cache)
	}
	s.cache[ck] = cached{tenant: t, until: now.Add(cacheTTL)}
	s.mu.Unlock()
	return t, nil
}

// VideoSecret returns the key that signs the tenant's video-room tokens.
func (s *Tenants) VideoSecret(ctx context.Context, tenantID string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT secret FROM tenant_credentials WHERE tenant_id = $1 AND kind = $2`, tenantID, credVideo).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("video secret: %w", err)
	}
	return b, nil
}
