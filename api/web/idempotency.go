package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
)

// MaxIdempotencyKeyLength bounds the Idempotency-Key header.
const MaxIdempotencyKeyLength = 255

// DefaultIdempotencyTTL is how long a key is remembered by default.
const DefaultIdempotencyTTL = 24 * time.Hour

// Idempotency makes writes safe to retry with an Idempotency-Key header,
// on every surface, across crashes.
//
// The first request with a key claims it (a row holding a fingerprint of
// the request), runs, and stores its response. A retry with the same key
// and the same request gets the stored response again (with
// Idempotent-Replayed: true); the same key with another request is refused
// (422 on the native API). What makes it crash-safe is that the store, not
// the key row, decides whether the write happened: every id the command
// chooses (event ids, a new ticket's id, an attachment's id) derives from
// the tenant, the key and the fingerprint (app.Meta.Idempotency, set from
// Seed). A retry whose key has no stored response — the first attempt
// crashed, failed with a 5xx, or is still running — simply runs again: if
// the first attempt's events are in the stream, the command answers what
// they did without deciding anything; if not, it writes now, once; if both
// race, the store accepts one append and reports the other as its
// duplicate. So after a kill -9 at any instant, a retry either returns the
// original outcome or performs the write exactly once — never a permanent
// 409, never a second ticket.
type Idempotency struct {
	DB  *sql.DB
	Log *slog.Logger
	// TTL is how long a key is remembered (DefaultIdempotencyTTL if 0);
	// after that the same key starts afresh.
	TTL time.Duration
	// CrashAt, for crash tests only, is called at each step of a keyed
	// write (StepClaimed, StepAnswered, StepStored, and the application
	// layer's app.Step* through app.WithCrashPoints); production leaves
	// it nil.
	CrashAt func(app.Step)
}

// Steps of a keyed write that the middleware reports to CrashAt.
const (
	// StepClaimed: the key row is written; the command has not run.
	StepClaimed app.Step = "claimed"
	// StepAnswered: the command ran; its response is not stored yet.
	StepAnswered app.Step = "answered"
	// StepStored: the response is stored; the client has not received it.
	StepStored app.Step = "stored"
)

type seedKey struct{}

// Seed returns the idempotency seed of a keyed request (for
// app.Meta.Idempotency), "" for a request without a key.
func Seed(r *http.Request) string {
	s, _ := r.Context().Value(seedKey{}).(string)
	return s
}

// replayed headers: what a replay must repeat to be the same answer.
var replayed = []string{"Content-Type", "Location", "ETag", "Eventdesk-Position", "Cache-Control"}

// Serve runs next for a request of tenant, honouring its Idempotency-Key
// (if any). The request body is read once, up to limit bytes, to
// fingerprint it; fail answers an error in the surface's own shape.
func (k *Idempotency) Serve(w http.ResponseWriter, r *http.Request, tenant string, limit int64,
	fail func(http.ResponseWriter, *http.Request, error), next http.HandlerFunc) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || k == nil {
		next(w, r)
		return
	}
	if len(key) > MaxIdempotencyKeyLength {
		fail(w, r, Invalid(FieldError{Field: "Idempotency-Key", Code: "too_long",
			Detail: "Idempotency-Key is longer than 255 characters"}))
		return
	}
	body, err := ReadBody(r, limit)
	if err != nil {
		fail(w, r, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	hash := fingerprint(r, body)
	seed := sha256.Sum256([]byte(tenant + "\x00" + key + "\x00" + hex.EncodeToString(hash)))
	ctx := context.WithValue(r.Context(), seedKey{}, hex.EncodeToString(seed[:]))
	if k.CrashAt != nil {
		ctx = app.WithCrashPoints(ctx, k.CrashAt)
	}
	r = r.WithContext(ctx)

	stored, err := k.claim(ctx, tenant, key, hash)
	if err != nil {
		fail(w, r, err)
		return
	}
	switch {
	case stored == nil: // ours: run it
	case !bytes.Equal(stored.hash, hash):
		fail(w, r, NewProblem(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was used with a different request; use a new key"))
		return
	case stored.status.Valid:
		var hs http.Header
		_ = json.Unmarshal(stored.headers, &hs)
		for name, v := range hs {
			w.Header()[name] = v
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(int(stored.status.Int64))
		_, _ = w.Write(stored.body)
		return
	default:
		// Claimed before, no response stored: the first attempt crashed,
		// failed, or still runs. Run again: the ids derived from the seed
		// let the store settle what happened.
	}
	k.crash(StepClaimed)
	rec := &recorder{header: http.Header{}}
	next(rec, r)
	k.crash(StepAnswered)
	if rec.status > 0 && rec.status < 500 {
		h := http.Header{}
		for _, name := range replayed {
			if v := rec.header.Get(name); v != "" {
				h.Set(name, v)
			}
		}
		hb, _ := json.Marshal(h)
		// A response that cannot be stored is no harm to correctness: a
		// retry runs the command again and gets the same outcome from the
		// store. A connection cut under the write is tried again briefly;
		// a database that stays away gets the client a 503 instead of the
		// answer, so that it retries with its key (and is answered from
		// the store) rather than leave the key without its response.
		err := retryUnreachable(func() error {
			_, err := k.DB.ExecContext(context.WithoutCancel(ctx), `UPDATE idempotency_keys SET status = $3, headers = $4, body = $5
			WHERE tenant_id = $1 AND key = $2 AND request_hash = $6`, tenant, key, rec.status, hb, rec.body.Bytes(), hash)
			return err
		})
		if err != nil && databaseUnreachable(err) {
			fail(w, r, fmt.Errorf("store idempotent response: %w", err))
			return
		}
		if err != nil {
			k.log().WarnContext(ctx, "store idempotent response; a retry will run again", "err", err)
		}
		k.crash(StepStored)
	}
	for name, v := range rec.header {
		w.Header()[name] = v
	}
	w.WriteHeader(max(rec.status, http.StatusOK))
	_, _ = w.Write(rec.body.Bytes())
}

// storeRetries are the pauses between attempts to store a response over
// a database connection that was cut: about a second in all.
var storeRetries = []time.Duration{50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond}

// retryUnreachable runs fn, and again after each of storeRetries while it
// fails because the database could not be reached.
func retryUnreachable(fn func() error) error {
	err := fn()
	for _, pause := range storeRetries {
		if err == nil || !databaseUnreachable(err) {
			return err
		}
		time.Sleep(pause)
		err = fn()
	}
	return err
}

func (k *Idempotency) crash(s app.Step) {
	if k.CrashAt != nil {
		k.CrashAt(s)
	}
}

func (k *Idempotency) log() *slog.Logger {
	if k.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return k.Log
}

func (k *Idempotency) ttl() time.Duration {
	if k.TTL <= 0 {
		return DefaultIdempotencyTTL
	}
	return k.TTL
}

// fingerprint covers what changes a write's meaning: method, path, the
// preconditions and actor headers, and the body.
func fingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n" + r.Header.Get("If-Match") + "\n" + r.Header.Get("Eventdesk-Actor") + "\n"))
	h.Write(body)
	return h.Sum(nil)
}

type storedKey struct {
	hash    []byte
	status  sql.NullInt64
	headers []byte
	body    []byte
}

// claim inserts the key row, or takes over an expired one; it returns nil
// when the key is now this request's, else the row as it is.
func (k *Idempotency) claim(ctx context.Context, tenant, key string, hash []byte) (*storedKey, error) {
	res, err := k.DB.ExecContext(ctx, `INSERT INTO idempotency_keys AS k (tenant_id, key, request_hash) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = excluded.request_hash, status = NULL, headers = NULL,
			body = NULL, created_at = now()
		WHERE k.created_at < now() - make_interval(secs => $4)`, tenant, key, hash, k.ttl().Seconds())
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil, nil
	}
	var s storedKey
	err = k.DB.QueryRowContext(ctx, `SELECT request_hash, status, headers, body FROM idempotency_keys
		WHERE tenant_id = $1 AND key = $2`, tenant, key).Scan(&s.hash, &s.status, &s.headers, &s.body)
	if err == sql.ErrNoRows { // expired and swept meanwhile: claim afresh
		return k.claim(ctx, tenant, key, hash)
	}
	return &s, err
}

// Sweep deletes expired keys every interval until ctx ends. It returns
// ctx's error.
func (k *Idempotency) Sweep(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := k.SweepOnce(ctx); err != nil && ctx.Err() == nil {
			k.log().WarnContext(ctx, "delete expired idempotency keys", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// SweepOnce deletes the keys older than the TTL and says how many.
func (k *Idempotency) SweepOnce(ctx context.Context) (int64, error) {
	res, err := k.DB.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)`, k.ttl().Seconds())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// recorder captures a response so that it can be stored and replayed.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *recorder) Header() http.Header { return c.header }
func (c *recorder) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *recorder) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
