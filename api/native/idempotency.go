package native

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"
)

// MaxIdempotencyKeyLength bounds the Idempotency-Key header.
const MaxIdempotencyKeyLength = 255

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

// replayed headers: what a replay must repeat to be the same answer.
var replayed = []string{"Content-Type", "Location", "ETag", "Eventdesk-Position", "Cache-Control"}

// idempotent makes a write safe to retry with an Idempotency-Key header:
// the first request with a key runs and its response is stored; a retry
// with the same key and body gets that response again (with
// Idempotent-Replayed: true); the same key with another body is refused
// with 422, and a retry while the first is still running gets 409.
// Responses with status 5xx are not kept, so such a request can be
// retried for real.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return s.idempotentUpTo(web.MaxBodyBytes, next)
}

// idempotentUpTo is idempotent for bodies of up to limit bytes (uploads).
func (s *Server) idempotentUpTo(limit int64, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next(w, r)
			return
		}
		if len(key) > MaxIdempotencyKeyLength {
			s.fail(w, r, web.Invalid(web.FieldError{Field: "Idempotency-Key", Code: "too_long", Detail: "Idempotency-Key is longer than 255 characters"}))
			return
		}
		body, err := web.ReadBody(r, limit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		// The fingerprint covers what changes a write's meaning: method,
		// path, the preconditions and actor headers, and the body.
		h.Write([]byte(r.Method + " " + r.URL.Path + "\n" + r.Header.Get("If-Match") + "\n" + r.Header.Get("Eventdesk-Actor") + "\n"))
		h.Write(body)
		hash := h.Sum(nil)
		tenant := tenantOf(r).ID

		res, err := s.DB.ExecContext(r.Context(), `INSERT INTO idempotency_keys (tenant_id, key, request_hash)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, tenant, key, hash)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if n, _ := res.RowsAffected(); n == 0 {
			s.replay(w, r, tenant, key, hash)
			return
		}
		rec := &recorder{header: http.Header{}}
		next(rec, r)
		if rec.status >= 500 || rec.status == 0 {
			_, _ = s.DB.ExecContext(r.Context(), `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`, tenant, key)
		} else {
			stored := http.Header{}
			for _, k := range replayed {
				if v := rec.header.Get(k); v != "" {
					stored.Set(k, v)
				}
			}
			hb, _ := json.Marshal(stored)
			if _, err := s.DB.ExecContext(r.Context(), `UPDATE idempotency_keys SET status = $3, headers = $4, body = $5
				WHERE tenant_id = $1 AND key = $2`, tenant, key, rec.status, hb, rec.body.Bytes()); err != nil {
				s.Logger.ErrorContext(r.Context(), "store idempotent response", "err", err)
			}
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	}
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request, tenant, key string, hash []byte) {
	var (
		storedHash []byte
		status     sql.NullInt64
		headers    []byte
		body       []byte
	)
	err := s.DB.QueryRowContext(r.Context(), `SELECT request_hash, status, headers, body FROM idempotency_keys
		WHERE tenant_id = $1 AND key = $2`, tenant, key).Scan(&storedHash, &status, &headers, &body)
	if errors.Is(err, sql.ErrNoRows) { // the first request failed meanwhile and released the key
		s.fail(w, r, web.NewProblem(http.StatusConflict, "idempotency_key_in_use", "a request with this Idempotency-Key just failed; retry"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !bytes.Equal(storedHash, hash) {
		s.fail(w, r, web.NewProblem(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was used with a different request; use a new key"))
		return
	}
	if !status.Valid {
		w.Header().Set("Retry-After", "1")
		s.fail(w, r, web.NewProblem(http.StatusConflict, "idempotency_key_in_use", "a request with this Idempotency-Key is still being processed"))
		return
	}
	var hs http.Header
	_ = json.Unmarshal(headers, &hs)
	for k, v := range hs {
		w.Header()[k] = v
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(int(status.Int64))
	_, _ = w.Write(body)
}
