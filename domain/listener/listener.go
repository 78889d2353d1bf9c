package listener

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of listeners; the stream id is the
// listener's id (a lower-case UUID). It is persisted.
const StreamType = "listener"

// Limits and defaults of listener settings.
const (
	MaxNameLength    = 200
	MaxTagLength     = 100
	MaxChannelLength = 100
	MaxCIDRs         = 100
	// DefaultRateLimit is the deliveries a listener accepts per minute when
	// its settings name no limit: a burst of as many, refilled evenly.
	DefaultRateLimit = 120
	// MaxRateLimit bounds a listener's rate limit, per minute.
	MaxRateLimit = 60000
)

// Settings are a listener's settings, each applied as seed 004 says. Their
// JSON form is stored in events.
type Settings struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// AllowedCIDRs, if any, are the only client addresses a delivery is
	// accepted from (a bare address is its own /32 or /128).
	AllowedCIDRs []string `json:"allowed_cidrs"`
	// DefaultTag is given to customers the listener creates, unless the
	// action carries its own tag.
	DefaultTag string `json:"default_tag,omitempty"`
	// ContactChannel is the customer channel of new contacts and accounts,
	// LeadChannel that of new leads; a channel in the input is ignored.
	ContactChannel string    `json:"contact_channel,omitempty"`
	LeadChannel    string    `json:"lead_channel,omitempty"`
	AutoEmail      AutoEmail `json:"auto_email"`
	AutoSMS        AutoSMS   `json:"auto_sms"`
	// RateLimit is the deliveries accepted per minute; 0 means
	// DefaultRateLimit.
	RateLimit int `json:"rate_limit"`
}

// AutoEmail is the automatic e-mail to customers the listener creates
// (only those with an e-mail address).
type AutoEmail struct {
	Enabled bool   `json:"enabled"`
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"`
}

// AutoSMS is the automatic SMS to customers the listener creates (only
// those with a phone).
type AutoSMS struct {
	Enabled  bool   `json:"enabled"`
	Template string `json:"template,omitempty"`
}

// Limit returns the listener's rate limit per minute.
func (s Settings) Limit() int {
	if s.RateLimit <= 0 {
		return DefaultRateLimit
	}
	return s.RateLimit
}

// Prefixes returns the allowed CIDRs parsed; Normalize has checked them.
func (s Settings) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(s.AllowedCIDRs))
	for _, c := range s.AllowedCIDRs {
		if p, err := parsePrefix(c); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Allows reports whether addr may deliver: no allow-list, or a prefix of
// it contains addr (IPv4-mapped IPv6 addresses compare as IPv4).
func (s Settings) Allows(addr netip.Addr) bool {
	if len(s.AllowedCIDRs) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range s.Prefixes() {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked(), nil
}

// Normalize checks settings and returns them normalised (text trimmed,
// CIDRs canonical and without repeats). Every bad field is reported,
// joined, each as ErrInvalidField at its JSON path.
func Normalize(s Settings) (Settings, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, ErrInvalidField.At(field).Withf("%s: "+format, append([]any{field}, args...)...))
	}
	text := func(field, v string, limit int) string {
		v = strings.TrimSpace(v)
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) || len(v) > limit {
			bad(field, "must be UTF-8 text of at most %d bytes", limit)
		}
		return v
	}
	if s.Name = text("name", s.Name, MaxNameLength); s.Name == "" {
		bad("name", "is required")
	}
	if len(s.AllowedCIDRs) > MaxCIDRs {
		bad("allowed_cidrs", "at most %d entries", MaxCIDRs)
	}
	cidrs := []string{}
	for i, c := range s.AllowedCIDRs {
		p, err := parsePrefix(strings.TrimSpace(c))
		if err != nil {
			bad("allowed_cidrs["+strconv.Itoa(i)+"]", "%q is not an IP address or CIDR (203.0.113.0/24, 2001:db8::/32)", c)
			continue
		}
		if v := p.String(); !slices.Contains(cidrs, v) {
			cidrs = append(cidrs, v)
		}
	}
	s.AllowedCIDRs = cidrs
	s.DefaultTag = text("default_tag", s.DefaultTag, MaxTagLength)
	s.ContactChannel = text("contact_channel", s.ContactChannel, MaxChannelLength)
	s.LeadChannel = text("lead_channel", s.LeadChannel, MaxChannelLength)
	tmpl := func(field, v string, required bool) string {
		if strings.TrimSpace(v) == "" {
			if required {
				bad(field, "is required when the automatic message is enabled")
			}
			return ""
		}
		if _, err := ParseTemplate(field, v); err != nil {
			errs = append(errs, err)
		}
		return v
	}
	s.AutoEmail.Subject = tmpl("auto_email.subject", s.AutoEmail.Subject, s.AutoEmail.Enabled)
	s.AutoEmail.Body = tmpl("auto_email.body", s.AutoEmail.Body, s.AutoEmail.Enabled)
	s.AutoSMS.Template = tmpl("auto_sms.template", s.AutoSMS.Template, s.AutoSMS.Enabled)
	if s.RateLimit < 0 || s.RateLimit > MaxRateLimit {
		bad("rate_limit", "must be 0 (the default, %d) to %d deliveries per minute", DefaultRateLimit, MaxRateLimit)
	}
	return s, domain.Join(errs...)
}

// Listener is the listener aggregate. Its methods check a command against
// the listener's state and record events; they never read the clock or do
// I/O. Not safe for concurrent use: load, decide, append, discard.
type Listener struct {
	id                   string
	settings             Settings
	generation           int
	deleted              bool
	createdAt, updatedAt time.Time
	domain.Root
}

// Snapshot is a read-only copy of a listener's state.
type Snapshot struct {
	ID       string   `json:"id"`
	Settings Settings `json:"settings"`
	// Generation counts the secret's rotations (0: the first secret).
	Generation int       `json:"generation"`
	Deleted    bool      `json:"deleted,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Version counts every event, pending ones included.
	Version int64 `json:"version"`
}

// Rehydrate rebuilds a Listener from its stored history at version. An
// empty history gives a listener that does not exist.
func Rehydrate(history []domain.Event, version int64) *Listener {
	l := &Listener{Root: domain.LoadedAt(version)}
	for _, e := range history {
		l.apply(e)
	}
	return l
}

// Exists reports whether the listener was created and not deleted.
func (l *Listener) Exists() bool { return l.id != "" && !l.deleted }

// ID returns the listener's id.
func (l *Listener) ID() string { return l.id }

// Snapshot returns a copy of the listener's current state.
func (l *Listener) Snapshot() Snapshot {
	s := l.settings
	s.AllowedCIDRs = slices.Clone(s.AllowedCIDRs)
	return Snapshot{ID: l.id, Settings: s, Generation: l.generation, Deleted: l.deleted,
		CreatedAt: l.createdAt, UpdatedAt: l.updatedAt, Version: l.Current()}
}

// Evolve returns the snapshot s after event e, applying e exactly as the
// aggregate does.
func Evolve(s Snapshot, e domain.Event) Snapshot {
	l := &Listener{id: s.ID, settings: s.Settings, generation: s.Generation, deleted: s.Deleted,
		createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, Root: domain.LoadedAt(s.Version + 1)}
	l.apply(e)
	return l.Snapshot()
}

// CreateListener creates a listener. ID is a lower-case UUID chosen by the
// caller.
type CreateListener struct {
	By       domain.Actor
	Source   domain.Source
	ID       string
	Settings Settings
}

// New decides CreateListener and returns the listener with
// ListenerCreated pending.
func New(c CreateListener, at time.Time) (*Listener, error) {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !domain.ValidUUID(c.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id must be a lower-case UUID"))
	}
	s, err := Normalize(c.Settings)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	l := &Listener{}
	l.record(ListenerCreated{Change: ch, ID: c.ID, Settings: s})
	return l, nil
}

// Update replaces the settings; the same settings record nothing.
func (l *Listener) Update(s Settings, by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	if err != nil {
		return err
	}
	if s, err = Normalize(s); err != nil {
		return err
	}
	if !l.Exists() {
		return ErrNotFound
	}
	if !equal(s, l.settings) {
		l.record(ListenerUpdated{Change: ch, Settings: s})
	}
	return nil
}

func equal(a, b Settings) bool {
	return slices.Equal(a.AllowedCIDRs, b.AllowedCIDRs) && a.Name == b.Name && a.Enabled == b.Enabled &&
		a.DefaultTag == b.DefaultTag && a.ContactChannel == b.ContactChannel && a.LeadChannel == b.LeadChannel &&
		a.AutoEmail == b.AutoEmail && a.AutoSMS == b.AutoSMS && a.RateLimit == b.RateLimit
}

// Rotate records a new secret generation (the application layer replaces
// the secret in the same command).
func (l *Listener) Rotate(by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	if err != nil {
		return err
	}
	if !l.Exists() {
		return ErrNotFound
	}
	l.record(ListenerRotated{Change: ch, Generation: l.generation + 1})
	return nil
}

// Delete deletes the listener; a deleted listener is ErrNotFound to every
// command.
func (l *Listener) Delete(by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	if err != nil {
		return err
	}
	if !l.Exists() {
		return ErrNotFound
	}
	l.record(ListenerDeleted{Change: ch})
	return nil
}

func (l *Listener) record(e domain.Event) { l.Record(e, l.apply) }

// apply evolves the state by one event. It never fails.
func (l *Listener) apply(e domain.Event) {
	if au, ok := e.(domain.Audited); ok {
		l.updatedAt = au.Audit().At
	}
	switch e := e.(type) {
	case ListenerCreated:
		l.id, l.settings, l.createdAt = e.ID, e.Settings, e.At
	case ListenerUpdated:
		l.settings = e.Settings
	case ListenerRotated:
		l.generation = e.Generation
	case ListenerDeleted:
		l.deleted = true
	}
}
