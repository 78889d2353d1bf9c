package native

import (
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"
)

// idempotent makes a write safe to retry with an Idempotency-Key header
// (web.Idempotency): the same key and body replay the original answer,
// also after a crash; the same key with another body is a 422.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return s.idempotentUpTo(web.MaxBodyBytes, next)
}

// idempotentUpTo is idempotent for bodies of up to limit bytes (uploads).
func (s *Server) idempotentUpTo(limit int64, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.Keys.Serve(w, r, keyScope(r), limit, s.fail, next)
	}
}

// keyScope is whose Idempotency-Keys a request's key is among: the
// tenant's API key's, or one agent token's agent's, so that an agent never
// gets the answer kept for another caller's request.
func keyScope(r *http.Request) string {
	if p := principalOf(r); p.Agent != nil {
		return p.Tenant.ID + "/agent/" + p.Agent.ID
	}
	return tenantOf(r).ID
}
