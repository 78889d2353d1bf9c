// Package listener is the delivery surface of seed 004's webhook listener:
// POST /hooks/listener/{secret}, where other systems push batches of CRM
// actions (add-contact, update-contact, add-lead, update-lead, add-note,
// add-deal, add-ticket, send-sms) for the tenant that owns the listener.
//
// Every action runs through the application commands (api/app) as the
// agent senderUser names, with source "webhook", so what it creates is on
// the event feed and in every surface. Listeners themselves are managed
// in the native API (/v1/listeners).
//
// Errors of the surface itself are answered in its own shape:
//
//	{"error": {"code": "invalid_json", "message": "…", "line": 1, "column": 738, "offset": 741, "found": "missing comma"}}
//
// (line, column, offset and found only for a body that is not JSON; field
// for an envelope member at fault). Errors of one action are in its result.
package listener

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/listener"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/projections"
)

// Limits of a delivery.
const (
	// MaxBodyBytes bounds a delivery's body (413 beyond).
	MaxBodyBytes = 1 << 20
	// MaxActions bounds the actions of one delivery (422 beyond).
	MaxActions = 100
)

// Waiter waits until a projection has handled the log up to a position
// (projections.Runner): a name lookup sees what earlier actions of the same
// delivery created.
type Waiter interface {
	WaitFor(ctx context.Context, name string, pos eventstore.Position) error
}

// Deps are what the listener surface calls. api.New wires them.
type Deps struct {
	*app.Services
	// Keys makes redeliveries answer the first results (Idempotency-Key or
	// webhook-id); nil ignores keys.
	Keys *web.Idempotency
	// Contacts finds customers by name (contacts.v1); Waiter lets it catch
	// up with the delivery's own writes first.
	Contacts *projections.ContactQueries
	Waiter   Waiter
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (EVENTDESK_TRUSTED_PROXIES); a delivery from anywhere else is judged
	// by its connection's address.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	// Now is the rate limiter's clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves deliveries.
type Handler struct {
	Deps
	limits *limiter
}

// New returns the listener surface.
func New(d Deps) *Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Handler{Deps: d, limits: &limiter{buckets: map[string]*bucket{}}}
}

// Register mounts POST /hooks/listener/{secret}; other methods there are
// 405 in the surface's own shape.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST "+app.ListenerPath+"{secret}", h)
	mux.Handle(app.ListenerPath+"{secret}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, apiError{Code: "method_not_allowed", Message: "a listener accepts POST only"})
	}))
}

// apiError is the body of the surface's own errors.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Offset  *int   `json:"offset,omitempty"`
	Found   string `json:"found,omitempty"`
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	web.WriteJSON(w, status, "application/json", map[string]apiError{"error": e})
}

// fail answers an error of the lower layers in the surface's shape.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	c := web.Classify(err)
	if c.Internal {
		h.Logger.ErrorContext(r.Context(), "listener delivery failed", "err", err, "request_id", web.RequestID(r))
	}
	e := apiError{Code: c.Code, Message: c.Message}
	if len(c.Fields) > 0 {
		e.Field = c.Fields[0].Field
	}
	web.SetRetryAfter(w.Header(), c)
	writeError(w, c.Status, e)
}

// ServeHTTP checks the URL, the client's address, the rate limit and the
// size, then runs the delivery once per Idempotency-Key (or webhook-id).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer web.RecoverPanic(r, h.Logger, "listener", func() {
		writeError(w, http.StatusInternalServerError, apiError{Code: "internal", Message: "internal error; it has been logged"})
	})
	tenant, l, err := h.Listeners.Resolve(r.Context(), r.PathValue("secret"))
	if errors.Is(err, listener.ErrNotFound) {
		writeError(w, http.StatusNotFound, apiError{Code: "listener_not_found",
			Message: "no enabled listener has this URL (it may have been rotated, disabled or deleted)"})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	addr, ok := h.clientAddr(r)
	if !ok || !l.Settings.Allows(addr) {
		writeError(w, http.StatusForbidden, apiError{Code: "ip_not_allowed",
			Message: fmt.Sprintf("deliveries from %s are not allowed by this listener's IP allow-list", addr)})
		return
	}
	if wait, ok := h.limits.allow(l.ID, l.Settings.Limit(), h.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, http.StatusTooManyRequests, apiError{Code: "rate_limited",
			Message: fmt.Sprintf("this listener accepts %d deliveries per minute; retry after %s", l.Settings.Limit(), wait.Round(time.Second))})
		return
	}
	if r.ContentLength > MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, apiError{Code: "body_too_large",
			Message: fmt.Sprintf("the body exceeds %d bytes", MaxBodyBytes)})
		return
	}
	if r.Header.Get("Idempotency-Key") == "" {
		if id := strings.TrimSpace(r.Header.Get("webhook-id")); id != "" {
			r.Header.Set("Idempotency-Key", "webhook-id:"+id)
		}
	}
	deliver := func(w http.ResponseWriter, r *http.Request) { h.deliver(w, r, tenant, l) }
	if h.Keys == nil {
		deliver(w, r)
		return
	}
	h.Keys.Serve(w, r, tenant+"/listener/"+l.ID, MaxBodyBytes, h.fail, deliver)
}

// clientAddr is the connection's address, or, when the connection comes
// from a trusted proxy, the right-most address of X-Forwarded-For that is
// not itself a trusted proxy.
func (h *Handler) clientAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	if !h.trusted(addr) {
		return addr, true
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false
		}
		if a = a.Unmap(); !h.trusted(a) {
			return a, true
		}
	}
	return addr, true
}

func (h *Handler) trusted(a netip.Addr) bool {
	for _, p := range h.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// envelope is a delivery's body.
type envelope struct {
	SenderUser json.RawMessage `json:"senderUser"`
	Data       json.RawMessage `json:"data"`
}

// actionIn is one element of data.
type actionIn struct {
	ActionType json.RawMessage `json:"actionType"`
	Data       json.RawMessage `json:"data"`
}

// decodeDelivery reads a delivery's body: its senderUser and its actions,
// or the status and error to answer. A body that is not JSON is a 400
// invalid_json naming the line, column, offset and what was found there
// (checkSyntax; nesting beyond web.MaxJSONDepth levels too, where the
// level too many opens); JSON that every surface refuses (web.CheckValue)
// is a 400 too: invalid_text for a \u0000 or an unpaired surrogate
// escape, duplicate_member for a member repeated within one object, each
// naming the member path in field; an envelope that is not
// {"senderUser": "…", "data": [ … ]} is a 422.
func decodeDelivery(body []byte) (sender string, actions []json.RawMessage, status int, e *apiError) {
	if se := checkSyntax(body); se != nil {
		off := se.Offset
		return "", nil, http.StatusBadRequest, &apiError{Code: "invalid_json",
			Message: fmt.Sprintf("the body is not JSON: line %d, column %d (byte %d): %s", se.Line, se.Column, se.Offset, se.Message),
			Line:    se.Line, Column: se.Column, Offset: &off, Found: se.Found}
	}
	var be *web.BodyError
	if err := web.CheckValue(body); errors.As(err, &be) {
		e := &apiError{Field: be.Field}
		switch be.Reason {
		case web.BodyBadText:
			e.Code, e.Message = "invalid_text", "invalid text: "+be.TextDetail()
		case web.BodyDuplicate:
			e.Code, e.Message = "duplicate_member", fmt.Sprintf("member %s appears more than once in its object; send each member once", be.Field)
		case web.BodyTooDeep:
			e.Code, e.Message = "too_deep", fmt.Sprintf("the body nests deeper than %d levels", web.MaxJSONDepth)
		default: // checkSyntax passed: not reached
			e.Code, e.Message = "invalid_json", "the body is not JSON"
		}
		return "", nil, http.StatusBadRequest, e
	}
	invalid := func(field, code, msg string) (string, []json.RawMessage, int, *apiError) {
		return "", nil, http.StatusUnprocessableEntity, &apiError{Code: code, Message: msg, Field: field}
	}
	var env envelope
	if trimmed := strings.TrimSpace(string(body)); !strings.HasPrefix(trimmed, "{") || json.Unmarshal(body, &env) != nil {
		return invalid("", "invalid_envelope", `the body must be a JSON object {"senderUser": "<agent e-mail>", "data": [actions]}`)
	}
	if len(env.SenderUser) == 0 || string(env.SenderUser) == "null" {
		return invalid("senderUser", "sender_required", "senderUser is required: the e-mail address of an agent of the tenant")
	}
	if json.Unmarshal(env.SenderUser, &sender) != nil || strings.TrimSpace(sender) == "" {
		return invalid("senderUser", "sender_required", "senderUser must be a non-empty string: the e-mail address of an agent of the tenant")
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return invalid("data", "data_required", "data is required: an array of actions")
	}
	if json.Unmarshal(env.Data, &actions) != nil {
		return invalid("data", "data_not_array", "data must be an array of actions")
	}
	if len(actions) > MaxActions {
		return invalid("data", "too_many_actions", fmt.Sprintf("a delivery holds at most %d actions; this one holds %d", MaxActions, len(actions)))
	}
	return sender, actions, 0, nil
}

func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, tenant string, l listener.Snapshot) {
	body, err := web.ReadBody(r, MaxBodyBytes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sender, actions, status, e := decodeDelivery(body)
	if e != nil {
		writeError(w, status, *e)
		return
	}
	a, err := h.Agents.ByEmail(r.Context(), tenant, sender)
	if errors.Is(err, agent.ErrNotFound) || err == nil && !a.Active {
		writeError(w, http.StatusUnprocessableEntity, apiError{Code: "unknown_sender", Field: "senderUser",
			Message: fmt.Sprintf("senderUser %s is not an active agent of this tenant", sender)})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	run := &delivery{h: h, tenant: tenant, l: l, sender: a,
		base: app.Meta{By: a.Actor(), Source: domain.SourceWebhook, CorrelationID: web.RequestID(r)},
		seed: web.Seed(r)}
	results := make([]Result, 0, len(actions))
	for i, raw := range actions {
		results = append(results, run.action(r.Context(), i, raw))
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string][]Result{"results": results})
}

// Result is the outcome of one action.
type Result struct {
	Index      int    `json:"index"`
	ActionType string `json:"actionType"`
	// Status is created, updated, duplicate or failed.
	Status string `json:"status"`
	// ID and Code name what the action created or changed: a customer's
	// id and code (PID-12); a note's id and its customer's code; a deal's
	// id and external id; a ticket's id and its number ("#7").
	ID   string `json:"id,omitempty"`
	Code string `json:"code,omitempty"`
	// Messages are the outbox ids of the SMS a send-sms requested.
	Messages []string `json:"messages,omitempty"`
	// Warnings are what the action ignored (custom fields the tenant has
	// not defined, a channel in the input).
	Warnings []string     `json:"warnings,omitempty"`
	Error    *ResultError `json:"error,omitempty"`
}

// ResultError is why an action failed.
type ResultError struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

// Statuses of a Result.
const (
	StatusCreated   = "created"
	StatusUpdated   = "updated"
	StatusDuplicate = "duplicate"
	StatusFailed    = "failed"
)

// actionError is a failure of one action found by this surface.
type actionError struct {
	code, msg string
	fields    []string
}

func (e *actionError) Error() string { return e.msg }

func actionErr(code, msg string, fields ...string) error {
	return &actionError{code: code, msg: msg, fields: fields}
}

func asType[T error](err error, target *T) bool { return errors.As(err, target) }

// delivery is one delivery's run: its actions share the sender, the
// listener and the idempotency seed.
type delivery struct {
	h      *Handler
	tenant string
	l      listener.Snapshot
	sender agent.Snapshot
	base   app.Meta
	seed   string
	index  int
	// last is the position of the delivery's last write, for name lookups.
	last eventstore.Position
}

// meta is the Meta of one command of the current action: with a key, its
// idempotency derives from the delivery's seed, the action's index and
// step, so that a redelivery finds what each step stored.
func (d *delivery) meta(step string) app.Meta {
	m := d.base
	if d.seed != "" {
		sum := sha256.Sum256([]byte(d.seed + "/" + strconv.Itoa(d.index) + "/" + step))
		m.Idempotency = hex.EncodeToString(sum[:])
	}
	return m
}

// wrote notes the position of a write.
func (d *delivery) wrote(pos eventstore.Position) {
	if d.last.Less(pos) {
		d.last = pos
	}
}

// action runs one action and answers its result; a panic or an error
// fails only this action.
func (d *delivery) action(ctx context.Context, i int, raw json.RawMessage) (res Result) {
	d.index = i
	res = Result{Index: i}
	var in actionIn
	if err := json.Unmarshal(raw, &in); err != nil {
		res.Status, res.Error = StatusFailed, &ResultError{Code: "invalid_action", Message: `an action must be an object {"actionType": …, "data": {…}}`}
		return res
	}
	if json.Unmarshal(in.ActionType, &res.ActionType) != nil || res.ActionType == "" {
		res.Status, res.Error = StatusFailed, &ResultError{Code: "action_type_required", Message: "actionType is required: a string", Fields: []string{"actionType"}}
		return res
	}
	run, ok := actions[res.ActionType]
	if !ok {
		res.Status, res.Error = StatusFailed, &ResultError{Code: "unknown_action_type", Fields: []string{"actionType"},
			Message: fmt.Sprintf("actionType %q is not one of %s", res.ActionType, strings.Join(actionNames, ", "))}
		return res
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler { // the request is being killed (a crash test): let it
				panic(p)
			}
			d.h.Logger.ErrorContext(ctx, "listener action panicked", "panic", fmt.Sprint(p), "action", res.ActionType)
			res.Status, res.ID, res.Code = StatusFailed, "", ""
			res.Error = &ResultError{Code: "internal", Message: "internal error; it has been logged"}
		}
	}()
	if err := run(ctx, d, in.Data, &res); err != nil {
		res.Status, res.ID, res.Code = StatusFailed, "", ""
		res.Error = d.resultError(ctx, err)
	}
	return res
}

// resultError describes err in a result, with the document's field names.
func (d *delivery) resultError(ctx context.Context, err error) *ResultError {
	var ae *actionError
	if errors.As(err, &ae) {
		return &ResultError{Code: ae.code, Message: ae.msg, Fields: ae.fields}
	}
	c := web.Classify(err)
	if c.Internal {
		d.h.Logger.ErrorContext(ctx, "listener action failed", "err", err)
	}
	re := &ResultError{Code: c.Code, Message: fieldNames.Replace(c.Message)}
	for _, f := range c.Fields {
		re.Fields = append(re.Fields, fieldNames.Replace(f.Field))
	}
	if len(c.Fields) > 0 {
		msgs := make([]string, 0, len(c.Fields))
		for _, f := range c.Fields {
			msgs = append(msgs, fieldNames.Replace(f.Detail))
		}
		re.Message = strings.Join(msgs, "; ")
	}
	return re
}

// fieldNames renames the model's field names to the document's.
var fieldNames = strings.NewReplacer("last_name", "lastname", "background", "bgInfo", "date_of_birth", "dateOfBirth",
	"ims", "im", "custom.", "cusFields.", "contact_id", "contactId", "close_date", "closeDate", "external_id", "dealId")

// limiter is a per-listener token bucket held in this process: a burst of
// the listener's per-minute limit, refilled evenly. A cluster of n nodes
// accepts up to n times the limit (documented in the README); a bucket
// idle for a minute is full again, so it may be forgotten.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

// maxBuckets is how many buckets the limiter keeps before it forgets the
// full ones.
const maxBuckets = 10000

type bucket struct {
	tokens float64
	at     time.Time
}

// allow takes one token of key's bucket of perMinute, or says how long
// until one is there.
func (l *limiter) allow(key string, perMinute int, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rate := float64(perMinute) / 60 // tokens per second
	if len(l.buckets) > maxBuckets {
		// Forget the buckets that have filled up again: they are as new.
		for k, b := range l.buckets {
			if now.Sub(b.at) > time.Minute {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(perMinute), at: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = math.Min(float64(perMinute), b.tokens+el*rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}
