package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// defaultDatabaseURL is the local server a fresh machine of ours has. Only
// with this URL may an unreachable server be replaced by the embedded one:
// a URL someone chose must never silently point somewhere else.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/eventdesk?sslmode=disable"

// Embedded PostgreSQL modes (EVENTDESK_EMBEDDED_PG).
const (
	embeddedAuto  = "auto"  // start a private cluster if the default server is unreachable
	embeddedNever = "never" // fail instead
)

// config is every EVENTDESK_* setting, parsed and validated once by
// loadConfig. Nothing else reads the environment.
type config struct {
	DatabaseURL     string        // EVENTDESK_DATABASE_URL
	RedisURL        string        // EVENTDESK_REDIS_URL; empty means a single node with in-process fan-out
	HTTPAddr        string        // EVENTDESK_HTTP_ADDR
	DataDir         string        // EVENTDESK_DATA_DIR, absolute
	LogLevel        slog.Level    // EVENTDESK_LOG_LEVEL
	ShutdownTimeout time.Duration // EVENTDESK_SHUTDOWN_TIMEOUT
	DBMaxConns      int           // EVENTDESK_DB_MAX_CONNS
	IdleInTxTimeout time.Duration // EVENTDESK_IDLE_IN_TX_TIMEOUT
	PollInterval    time.Duration // EVENTDESK_POLL_INTERVAL
	EmbeddedPG      string        // EVENTDESK_EMBEDDED_PG: embeddedAuto or embeddedNever
	MaxUploadBytes  int           // EVENTDESK_MAX_UPLOAD_BYTES: the largest attachment accepted
	GroupCommit     int           // EVENTDESK_GROUP_COMMIT: concurrent append groups; 0 commits each append alone
	IdempotencyTTL  time.Duration // EVENTDESK_IDEMPOTENCY_TTL: how long an Idempotency-Key is remembered
	// HTTPReadTimeout bounds reading one request, body included, so that a
	// body sent a byte at a time (or never) cannot hold a connection
	// (EVENTDESK_HTTP_READ_TIMEOUT); HTTPIdleTimeout bounds an idle
	// keep-alive connection (EVENTDESK_HTTP_IDLE_TIMEOUT).
	HTTPReadTimeout time.Duration
	HTTPIdleTimeout time.Duration
	// SMTPURL is EVENTDESK_SMTP_URL (smtp:// STARTTLS, smtps:// implicit
	// TLS); empty writes each e-mail as an .eml file under DataDir/outbox.
	SMTPURL string
	// SMS is the SMS provider of tenants that configure none
	// (EVENTDESK_SMS_BASE_URL, _ACCOUNT_SID, _AUTH_TOKEN, _FROM: all or none).
	SMS smsDefaults
	// PublicURL is the absolute base of webhook listener URLs
	// (EVENTDESK_PUBLIC_URL); TrustedProxies are the proxies whose
	// X-Forwarded-For a listener believes (EVENTDESK_TRUSTED_PROXIES).
	PublicURL      string
	TrustedProxies []netip.Prefix
	// AllowedOrigins are the browser origins, besides the server's own,
	// that may open realtime streams (EVENTDESK_ALLOWED_ORIGINS, comma
	// separated; "*" any); StreamQueueBytes bounds each stream's send
	// queue (EVENTDESK_STREAM_QUEUE_BYTES).
	AllowedOrigins   []string
	StreamQueueBytes int
	// Token is the credential `eventdesk stream` connects with
	// (EVENTDESK_TOKEN: a tenant API key or an agent token).
	Token string

	// DefaultDatabase is true when DatabaseURL is defaultDatabaseURL, the
	// only case in which the embedded cluster may stand in for it. Tests
	// set it to exercise the fallback against a closed port.
	DefaultDatabase bool
	// EmbeddedDir is where the embedded cluster lives (absolute).
	EmbeddedDir string
	// PGBinDirs are searched, in order, for initdb and pg_ctl.
	PGBinDirs []string
}

// loadConfig reads the EVENTDESK_* variables through getenv, applies
// defaults and validates them. Each bad value yields one line naming its
// variable.
func loadConfig(getenv func(string) string) (config, error) {
	p := parser{getenv: getenv}
	c := config{
		DatabaseURL:      p.str("EVENTDESK_DATABASE_URL", defaultDatabaseURL),
		RedisURL:         p.str("EVENTDESK_REDIS_URL", ""),
		HTTPAddr:         p.str("EVENTDESK_HTTP_ADDR", ":8080"),
		DataDir:          p.path("EVENTDESK_DATA_DIR", "./var/data"),
		LogLevel:         p.level("EVENTDESK_LOG_LEVEL", slog.LevelInfo),
		ShutdownTimeout:  p.duration("EVENTDESK_SHUTDOWN_TIMEOUT", 15*time.Second),
		DBMaxConns:       p.integer("EVENTDESK_DB_MAX_CONNS", 20, 1, 10000),
		IdleInTxTimeout:  p.duration("EVENTDESK_IDLE_IN_TX_TIMEOUT", 30*time.Second),
		PollInterval:     p.duration("EVENTDESK_POLL_INTERVAL", 500*time.Millisecond),
		EmbeddedPG:       p.oneOf("EVENTDESK_EMBEDDED_PG", embeddedAuto, embeddedAuto, embeddedNever),
		MaxUploadBytes:   p.integer("EVENTDESK_MAX_UPLOAD_BYTES", 25<<20, 1, 1<<30),
		GroupCommit:      p.integer("EVENTDESK_GROUP_COMMIT", 2, 0, 64),
		IdempotencyTTL:   p.duration("EVENTDESK_IDEMPOTENCY_TTL", 24*time.Hour),
		HTTPReadTimeout:  p.duration("EVENTDESK_HTTP_READ_TIMEOUT", 60*time.Second),
		HTTPIdleTimeout:  p.duration("EVENTDESK_HTTP_IDLE_TIMEOUT", 30*time.Second),
		AllowedOrigins:   p.origins("EVENTDESK_ALLOWED_ORIGINS"),
		StreamQueueBytes: p.integer("EVENTDESK_STREAM_QUEUE_BYTES", 1<<20, 4<<10, 1<<30),
		Token:            p.str("EVENTDESK_TOKEN", ""),
		EmbeddedDir:      p.abs("var/pg"),
		PGBinDirs:        append(installedPGBinDirs(), filepath.SplitList(getenv("PATH"))...),
	}
	c.DefaultDatabase = c.DatabaseURL == defaultDatabaseURL
	p.check("EVENTDESK_DATABASE_URL", validDatabaseURL(c.DatabaseURL))
	if c.RedisURL != "" {
		p.check("EVENTDESK_REDIS_URL", validRedisURL(c.RedisURL))
	}
	p.check("EVENTDESK_HTTP_ADDR", validAddr(c.HTTPAddr))
	c.SMTPURL, c.SMS = outboxConfig(&p)
	c.PublicURL, c.TrustedProxies = listenerConfig(&p)
	return c, errors.Join(p.errs...)
}

// parser collects one error per bad variable.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) check(name string, err error) {
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s: %w", name, err))
	}
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) path(name, def string) string {
	v, err := filepath.Abs(p.str(name, def))
	p.check(name, err)
	return v
}

func (p *parser) abs(rel string) string {
	v, err := filepath.Abs(rel)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("working directory: %w", err))
	}
	return v
}

func (p *parser) level(name string, def slog.Level) slog.Level {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.check(name, fmt.Errorf("%q is not a log level (want debug, info, warn or error)", v))
		return def
	}
	return l
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		p.check(name, fmt.Errorf("%q is not a duration (want e.g. %s)", v, def))
		return def
	case d <= 0:
		p.check(name, fmt.Errorf("%q must be positive", v))
		return def
	}
	return d
}

func (p *parser) integer(name string, def, lo, hi int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.check(name, fmt.Errorf("%q is not a whole number from %d to %d", v, lo, hi))
		return def
	}
	return n
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.check(name, fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", ")))
	return def
}

// origins parses a comma-separated list of browser origins
// (scheme://host[:port]), or "*".
func (p *parser) origins(name string) []string {
	var out []string
	for _, o := range strings.Split(p.str(name, ""), ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if u, err := url.Parse(o); o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "") {
			p.check(name, fmt.Errorf("%q is not an origin (want e.g. https://desk.example.com, or *)", o))
			continue
		}
		out = append(out, o)
	}
	return out
}

func validDatabaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("want a URL like postgres://user@host:5432/dbname?sslmode=disable")
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return fmt.Errorf("%s names no host", u.Redacted())
	}
	if strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("%s names no database", u.Redacted())
	}
	return nil
}

func validRedisURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix"):
		return errors.New("want a URL like redis://127.0.0.1:6379/0, or leave it empty for a single node")
	case u.Scheme == "unix" && u.Path == "":
		return fmt.Errorf("%s names no socket", u.Redacted())
	case u.Scheme != "unix" && u.Host == "":
		return fmt.Errorf("%s names no host", u.Redacted())
	}
	return nil
}

func validAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port (want e.g. :8080 or 127.0.0.1:8080)", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port", s)
	}
	return nil
}
