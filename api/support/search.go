package support

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/projections"
)

// Pagination of the search, as Spring's Pageable reads it: page (from 0)
// and size in the query string; a missing or malformed value is the
// default, a size above MaxPageSize is MaxPageSize.
const (
	DefaultPageSize = projections.DefaultSupportPage
	MaxPageSize     = projections.MaxSupportPage
	// maxPage keeps page*size far from overflowing; no tenant has that
	// many tickets, so pages beyond it are empty anyway.
	maxPage = 10_000_000
)

// pageOf reads page and size from q, leniently (like Spring).
func pageOf(q url.Values) (page, size int) {
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 0 {
		page = 0
	}
	page = min(page, maxPage)
	size, err = strconv.Atoi(q.Get("size"))
	if err != nil || size < 1 {
		size = DefaultPageSize
	}
	return page, min(size, MaxPageSize)
}

// canonicalUUID lower-cases s and, if it is a UUID in any form Java's
// UUID.fromString or Go's uuid.Parse reads, writes it canonically.
func canonicalUUID(s string) string {
	s = strings.TrimSpace(s)
	if u, err := uuid.Parse(s); err == nil {
		return u.String()
	}
	return strings.ToLower(s)
}

// search is POST /api/admin/fetch/customer/support: the records matching
// every non-empty filter, newest first, one page at a time.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, tenant app.Tenant) error {
	b, err := decodeObject(r, true)
	if err != nil {
		return err
	}
	f := projections.SupportFilter{TenantID: tenant.ID}
	for _, m := range []struct {
		name string
		dst  *string
	}{
		{"uuid", &f.UserID}, {"udid", &f.DeviceID}, {"email", &f.Email}, {"phone", &f.Phone},
		{"ticketId", &f.ClientTicketID}, {"zendeskTicketId", &f.SupportTicketID},
	} {
		v, err := b.text(m.name)
		if err != nil {
			return err
		}
		*m.dst = strings.TrimSpace(v)
	}
	f.UserID, f.ClientTicketID = canonicalUUID(f.UserID), canonicalUUID(f.ClientTicketID)
	page, size := pageOf(r.URL.Query())
	f.Offset, f.Limit = int64(page)*int64(size), size
	res, err := h.d.Queries.SearchSupport(r.Context(), f)
	if err != nil {
		return err
	}
	cfg, _, err := h.d.Tickets.Config(r.Context(), tenant.ID)
	if err != nil {
		return err
	}
	records := make([]Record, 0, len(res.Tickets))
	for _, s := range res.Tickets {
		paths, err := h.filePaths(r.Context(), r, tenant.ID, s, nil)
		if err != nil {
			return err
		}
		records = append(records, record(s, cfg, paths))
	}
	if res.More {
		next := url.URL{Path: PathSearch, RawQuery: url.Values{"page": {strconv.Itoa(page + 1)}, "size": {strconv.Itoa(size)}}.Encode()}
		w.Header().Set("Link", "<"+next.String()+`>; rel="next"`)
	}
	return ok(w, records, MsgFetched)
}
