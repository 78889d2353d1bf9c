package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/outbox"
	"github.com/eventdesk/eventdesk/eventstore"
)

var outboxKind = kind[*outbox.Message]{encode: outbox.Encode, decode: outbox.Decode, rehydrate: outbox.Rehydrate}

// SMSTrialLimit is how many SMS a tenant with no SMS provider (its own or
// the EVENTDESK_SMS_* default) may request: they are written to files
// beside the e-mails instead of being sent. After that RequestSMS fails
// with ErrSMSUnavailable.
const SMSTrialLimit = 10

// ErrSMSUnavailable: the tenant has no SMS provider and its trial is used
// up.
var ErrSMSUnavailable = &domain.Error{Kind: domain.Conflict, Code: "sms_unavailable",
	Msg: fmt.Sprintf("the SMS trial (%d messages) is used up: configure an SMS provider with PUT /v1/config/sms "+
		"(base_url, account_sid, auth_token, from), or set EVENTDESK_SMS_BASE_URL, EVENTDESK_SMS_ACCOUNT_SID, "+
		"EVENTDESK_SMS_AUTH_TOKEN and EVENTDESK_SMS_FROM for every tenant", SMSTrialLimit)}

// EmailMessage is an e-mail to request.
type EmailMessage struct {
	To, Subject, Body string
	// CustomerID, if set, is the CRM customer the message is for.
	CustomerID string
}

// SMSMessage is an SMS to request.
type SMSMessage struct {
	// To is a phone as given; RequestSMS normalises it (NormalizePhone)
	// with the tenant's CRM region.
	To, Body string
	// CustomerID, if set, is the CRM customer the message is for.
	CustomerID string
}

// SMSConfig is a Twilio-compatible SMS provider: messages are POSTed to
// {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json with basic auth
// AccountSID:AuthToken, from From.
type SMSConfig struct {
	BaseURL, AccountSID, AuthToken, From string
}

// Configured reports whether c names a provider completely.
func (c SMSConfig) Configured() bool {
	return c.BaseURL != "" && c.AccountSID != "" && c.AuthToken != "" && c.From != ""
}

// SMSConfigView is what the API shows of a tenant's SMS set-up: never the
// token.
type SMSConfigView struct {
	BaseURL      string `json:"base_url,omitempty"`
	AccountSID   string `json:"account_sid,omitempty"`
	From         string `json:"from,omitempty"`
	AuthTokenSet bool   `json:"auth_token_set"`
	// Provider is "tenant" (its own, PUT /v1/config/sms), "default" (the
	// EVENTDESK_SMS_* variables) or "trial" (neither).
	Provider   string `json:"provider"`
	TrialLimit int    `json:"trial_limit"`
	TrialUsed  int    `json:"trial_used"`
}

// Outbox records e-mails and SMS to send. Nothing is sent inside a
// request: RequestEmail and RequestSMS record outbox.requested, and the
// OutboxSender, a durable consumer of the log, sends and records the
// outcome.
type Outbox struct {
	store    eventstore.Store
	db       *sql.DB
	messages *repository[*outbox.Message]
	crm      *CRM
	now      func() time.Time
	// smsDefault is the EVENTDESK_SMS_* provider; zero: none.
	smsDefault SMSConfig
}

// NewOutbox returns the outbox over store; db keeps the tenants' SMS
// providers and trial counts; crm gives the phone region; smsDefault is
// the provider of tenants that configure none (zero: none).
func NewOutbox(store eventstore.Store, db *sql.DB, crm *CRM, smsDefault SMSConfig, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{store: store, db: db, messages: newRepository(outboxKind, store), crm: crm, now: now, smsDefault: smsDefault}
}

func outboxStream(tenant, id string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: outbox.StreamType, ID: id}
}

// RequestEmail records a request to send msg and returns the message's id
// (derived from m.Idempotency when set, so that a retried request records
// nothing twice). Nothing is sent here.
func (o *Outbox) RequestEmail(ctx context.Context, tenant string, msg EmailMessage, m Meta) (string, error) {
	id := m.derivedID("outbox_message")
	return id, o.request(ctx, tenant, outbox.Request{By: m.By, Source: m.Source, ID: id, Channel: outbox.Email,
		To: msg.To, Subject: msg.Subject, Body: msg.Body, CustomerID: msg.CustomerID}, m)
}

// RequestSMS records a request to send msg and returns the message's id
// (derived from m.Idempotency when set). The phone is normalised with the
// tenant's CRM region. A tenant with no SMS provider (its own or the
// default) sends on trial: the message is written to a file, at most
// SMSTrialLimit times; after that RequestSMS fails with ErrSMSUnavailable.
func (o *Outbox) RequestSMS(ctx context.Context, tenant string, msg SMSMessage, m Meta) (string, error) {
	id := m.derivedID("outbox_message")
	region := ""
	if o.crm != nil {
		var err error
		if region, err = o.crm.Region(ctx, tenant); err != nil {
			return "", err
		}
	}
	r := outbox.Request{By: m.By, Source: m.Source, ID: id, Channel: outbox.SMS, To: NormalizePhone(msg.To, region),
		Body: msg.Body, CustomerID: msg.CustomerID}
	if _, err := outbox.New(r, o.now()); err != nil { // refuse bad input before using the trial
		return "", err
	}
	cfg, err := o.provider(ctx, tenant)
	if err != nil {
		return "", err
	}
	if !cfg.Configured() {
		if err := o.useTrial(ctx, tenant, id); err != nil {
			return "", err
		}
		r.Trial = true
	}
	return id, o.request(ctx, tenant, r, m)
}

func (o *Outbox) request(ctx context.Context, tenant string, r outbox.Request, m Meta) error {
	_, err := o.messages.run(ctx, outboxStream(tenant, r.ID), o.now, m, func(msg *outbox.Message, at time.Time) error {
		return msg.Request(r, at)
	})
	return err
}

// useTrial counts message id against tenant's SMS trial, once however
// often it is asked, or fails with ErrSMSUnavailable.
func (o *Outbox) useTrial(ctx context.Context, tenant, id string) error {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sms trial: %w", err)
	}
	defer tx.Rollback()
	// One trial count per tenant at a time, so the limit holds under races.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('sms_trial/' || $1, 0))`, tenant); err != nil {
		return fmt.Errorf("sms trial: %w", err)
	}
	var counted bool
	var used int
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sms_trial WHERE tenant_id = $1 AND message_id = $2),
		(SELECT count(*) FROM sms_trial WHERE tenant_id = $1)`, tenant, id).Scan(&counted, &used)
	if err != nil {
		return fmt.Errorf("sms trial: %w", err)
	}
	if counted {
		return nil
	}
	if used >= SMSTrialLimit {
		return ErrSMSUnavailable
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sms_trial (tenant_id, message_id, created_at) VALUES ($1, $2, $3)`,
		tenant, id, o.now()); err != nil {
		return fmt.Errorf("sms trial: %w", err)
	}
	return tx.Commit()
}

// provider returns tenant's SMS provider: its own, else the default, else
// the zero SMSConfig (trial).
func (o *Outbox) provider(ctx context.Context, tenant string) (SMSConfig, error) {
	var c SMSConfig
	err := o.db.QueryRowContext(ctx, `SELECT base_url, account_sid, auth_token, from_number FROM sms_configs WHERE tenant_id = $1`,
		tenant).Scan(&c.BaseURL, &c.AccountSID, &c.AuthToken, &c.From)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return o.smsDefault, nil
	case err != nil:
		return SMSConfig{}, fmt.Errorf("sms config of %s: %w", tenant, err)
	}
	return c, nil
}

// SMSConfig returns what may be shown of tenant's SMS set-up.
func (o *Outbox) SMSConfig(ctx context.Context, tenant string) (SMSConfigView, error) {
	v := SMSConfigView{TrialLimit: SMSTrialLimit}
	var own bool
	err := o.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sms_configs WHERE tenant_id = $1),
		(SELECT count(*) FROM sms_trial WHERE tenant_id = $1)`, tenant).Scan(&own, &v.TrialUsed)
	if err != nil {
		return SMSConfigView{}, fmt.Errorf("sms config of %s: %w", tenant, err)
	}
	c, err := o.provider(ctx, tenant)
	if err != nil {
		return SMSConfigView{}, err
	}
	switch {
	case own:
		v.Provider = "tenant"
	case c.Configured():
		v.Provider = "default"
	default:
		v.Provider = "trial"
	}
	v.BaseURL, v.AccountSID, v.From, v.AuthTokenSet = c.BaseURL, c.AccountSID, c.From, c.AuthToken != ""
	return v, nil
}

// SetSMSConfig sets tenant's own SMS provider. An empty AuthToken keeps
// the token stored before (so a client can change the rest without
// holding it); with none stored, it is required. Errors name the field.
func (o *Outbox) SetSMSConfig(ctx context.Context, tenant string, c SMSConfig) (SMSConfigView, error) {
	c.BaseURL, c.AccountSID, c.From = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/"), strings.TrimSpace(c.AccountSID), strings.TrimSpace(c.From)
	var errs []error
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, domain.Invalidf("base_url", "base_url %q must be an absolute http or https URL without query", c.BaseURL))
	}
	if !smsText(c.AccountSID, 128) || strings.ContainsAny(c.AccountSID, "/?#:") {
		errs = append(errs, domain.Invalidf("account_sid", "account_sid must be 1..128 bytes without / ? # or :"))
	}
	if c.AuthToken != "" && !smsText(c.AuthToken, 256) {
		errs = append(errs, domain.Invalidf("auth_token", "auth_token must be at most 256 bytes"))
	}
	if !smsText(c.From, 64) {
		errs = append(errs, domain.Invalidf("from", "from must be a phone number or sender id of 1..64 bytes"))
	}
	if err := domain.Join(errs...); err != nil {
		return SMSConfigView{}, err
	}
	q := `INSERT INTO sms_configs (tenant_id, base_url, account_sid, auth_token, from_number, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id) DO UPDATE SET base_url = $2, account_sid = $3, auth_token = $4, from_number = $5, updated_at = $6`
	args := []any{tenant, c.BaseURL, c.AccountSID, c.AuthToken, c.From, o.now()}
	if c.AuthToken == "" { // keep the stored token
		q = `UPDATE sms_configs SET base_url = $2, account_sid = $3, from_number = $4, updated_at = $5 WHERE tenant_id = $1`
		args = []any{tenant, c.BaseURL, c.AccountSID, c.From, o.now()}
	}
	res, err := o.db.ExecContext(ctx, q, args...)
	if err != nil {
		return SMSConfigView{}, fmt.Errorf("set sms config of %s: %w", tenant, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return SMSConfigView{}, domain.Invalidf("auth_token", "auth_token is required (none is stored yet)")
	}
	return o.SMSConfig(ctx, tenant)
}

func smsText(s string, max int) bool {
	return s != "" && len(s) <= max && utf8.ValidString(s) && !strings.ContainsAny(s, "\x00\r\n")
}

// Message returns a message of tenant; an unknown one (or another
// tenant's) is outbox.ErrNotFound.
func (o *Outbox) Message(ctx context.Context, tenant, id string) (outbox.Snapshot, error) {
	if !domain.ValidUUID(id) {
		return outbox.Snapshot{}, outbox.ErrNotFound
	}
	msg, _, err := o.messages.load(ctx, outboxStream(tenant, id))
	if err != nil {
		return outbox.Snapshot{}, err
	}
	if !msg.Exists() {
		return outbox.Snapshot{}, outbox.ErrNotFound
	}
	return msg.Snapshot(), nil
}

// Retry makes a failed or dead-lettered message due again at once
// (outbox.ErrNotRetryable for any other; outbox.ErrNotFound for an
// unknown one). It returns the message and the position of the retry.
func (o *Outbox) Retry(ctx context.Context, tenant, id string, m Meta) (outbox.Snapshot, eventstore.Position, error) {
	if !domain.ValidUUID(id) {
		return outbox.Snapshot{}, eventstore.Position{}, outbox.ErrNotFound
	}
	res, err := o.messages.run(ctx, outboxStream(tenant, id), o.now, m, func(msg *outbox.Message, at time.Time) error {
		return msg.Retry(m.By, m.Source, at)
	})
	if err != nil {
		return outbox.Snapshot{}, eventstore.Position{}, err
	}
	return res.agg.Snapshot(), res.pos, nil
}
