package native

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/projections"
)

// Contacts: the CRM's customers of every kind — contacts, accounts and
// leads — at /v1/contacts. A customer is named by its id or its code
// (PID-12, CID-3, LID-7); a merged customer's id or code answers the
// survivor. Through an agent's token a customer its permit does not allow
// is 404, as if it did not exist.

// contactBody is a customer's profile as the native API takes it: the
// members of customer.Profile, and on create the kind.
type contactBody struct {
	Kind        string                     `json:"kind"`
	Name        string                     `json:"name"`
	LastName    string                     `json:"last_name"`
	Title       string                     `json:"title"`
	Passport    string                     `json:"passport"`
	Gender      *customer.Gender           `json:"gender"`
	Background  string                     `json:"background"`
	DateOfBirth string                     `json:"date_of_birth"`
	Emails      []customer.Email           `json:"emails"`
	Phones      []phoneBody                `json:"phones"`
	Addresses   []customer.Address         `json:"addresses"`
	Websites    []string                   `json:"websites"`
	IMs         []customer.IM              `json:"ims"`
	Tags        []string                   `json:"tags"`
	Custom      map[string]json.RawMessage `json:"custom"`
	ContactID   string                     `json:"contact_id"`
	Account     string                     `json:"account_id"`
	Owner       string                     `json:"owner"`
	Permit      domain.Permit              `json:"permit"`
	Channel     string                     `json:"channel"`
}

// phoneBody is a phone as clients send it: its normalised form is ours to
// compute.
type phoneBody struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func phones(in []phoneBody) []customer.Phone {
	if in == nil {
		return nil
	}
	out := make([]customer.Phone, len(in))
	for i, p := range in {
		out[i] = customer.Phone{Type: p.Type, Value: p.Value}
	}
	return out
}

// apply sets the members of p that present names (all of them when
// present is nil) from b; a member sent as null is cleared.
func (b contactBody) apply(p customer.Profile, present map[string]bool) customer.Profile {
	set := func(name string) bool { return present == nil || present[name] }
	if set("name") {
		p.Name = b.Name
	}
	if set("last_name") {
		p.LastName = b.LastName
	}
	if set("title") {
		p.Title = b.Title
	}
	if set("passport") {
		p.Passport = b.Passport
	}
	if set("gender") {
		p.Gender = b.Gender
	}
	if set("background") {
		p.Background = b.Background
	}
	if set("date_of_birth") {
		p.DateOfBirth = b.DateOfBirth
	}
	if set("emails") {
		p.Emails = b.Emails
	}
	if set("phones") {
		p.Phones = phones(b.Phones)
	}
	if set("addresses") {
		p.Addresses = b.Addresses
	}
	if set("websites") {
		p.Websites = b.Websites
	}
	if set("ims") {
		p.IMs = b.IMs
	}
	if set("tags") {
		p.Tags = b.Tags
	}
	if set("custom") {
		p.Custom = b.Custom
	}
	if set("contact_id") {
		p.ContactID = b.ContactID
	}
	if set("account_id") {
		p.Account = b.Account
	}
	if set("owner") {
		p.Owner = b.Owner
	}
	if set("permit") {
		p.Permit = b.Permit
	}
	if set("channel") {
		p.Channel = b.Channel
	}
	return p
}

// contactView is a customer as the native API shows it.
type contactView struct {
	customer.Snapshot
	// Duplicate is true on a create that found the customer already there.
	Duplicate bool                `json:"duplicate"`
	Matched   []customer.Identity `json:"matched,omitempty"`
}

var kinds = []string{string(customer.Contact), string(customer.Account), string(customer.Lead)}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request) {
	var req contactBody
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		c.required("name", req.Name)
		c.oneOf("kind", req.Kind, kinds)
	})
	if !ok {
		return
	}
	kind := customer.Kind(req.Kind)
	if kind == "" {
		kind = customer.Contact
	}
	res, err := s.Customers.Create(r.Context(), tenantOf(r).ID, kind, req.apply(customer.Profile{}, nil), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Duplicate {
		status = http.StatusOK
	} else {
		w.Header().Set("Location", "/v1/contacts/"+res.Customer.ID)
	}
	writeVersioned(w, status, res.Customer.Version, res.Position, contactView{Snapshot: res.Customer, Duplicate: res.Duplicate, Matched: res.Matched})
}

// visible answers 404 for a customer the caller's permits do not show.
func (s *Server) visible(r *http.Request, c customer.Snapshot) error {
	v, err := s.viewer(r)
	if err != nil {
		return err
	}
	if !c.Profile.Permit.Allows(v, c.Profile.Owner) {
		return customer.ErrNotFound
	}
	return nil
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) {
	c, _, err := s.Customers.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err == nil {
		err = s.visible(r, c)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, c.Version, eventstore.Position{}, contactView{Snapshot: c})
}

func (s *Server) patchContact(w http.ResponseWriter, r *http.Request) {
	var req contactBody
	var present map[string]bool
	m, ok := s.command(w, r, &req, false, &present, func(c *fieldCheck) {
		if present["kind"] {
			c.add("kind", "read_only", "kind cannot change; convert a lead with POST /v1/contacts/{id}/convert")
		}
		if present["name"] {
			c.required("name", req.Name)
		}
	})
	if !ok || !s.mayChange(w, r) {
		return
	}
	res, err := s.Customers.Update(r.Context(), tenantOf(r).ID, r.PathValue("id"), func(p customer.Profile) customer.Profile {
		return req.apply(p, present)
	}, m)
	s.answerContact(w, r, http.StatusOK, res, err)
}

// mayChange answers 404 (and false) when the caller may not see the
// customer it writes to.
func (s *Server) mayChange(w http.ResponseWriter, r *http.Request) bool {
	if principalOf(r).Admin() {
		return true
	}
	c, _, err := s.Customers.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err == nil {
		err = s.visible(r, c)
	}
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}

func (s *Server) answerContact(w http.ResponseWriter, r *http.Request, status int, res app.CustomerResult, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, status, res.Customer.Version, res.Position, contactView{Snapshot: res.Customer})
}

func (s *Server) convertContact(w http.ResponseWriter, r *http.Request) {
	m, ok := s.command(w, r, &struct{}{}, true, nil, nil)
	if !ok || !s.mayChange(w, r) {
		return
	}
	res, err := s.Customers.Convert(r.Context(), tenantOf(r).ID, r.PathValue("id"), m)
	s.answerContact(w, r, http.StatusOK, res, err)
}

type mergeRequest struct {
	From   []string          `json:"from"`
	DryRun bool              `json:"dry_run"`
	Prefer map[string]string `json:"prefer"`
}

// mergeView is the answer of a merge or its dry run.
type mergeView struct {
	Customer  contactView         `json:"customer"`
	Conflicts []customer.Conflict `json:"conflicts"`
	DryRun    bool                `json:"dry_run"`
}

func (s *Server) mergeContacts(w http.ResponseWriter, r *http.Request) {
	var req mergeRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		if len(req.From) == 0 {
			c.add("from", "required", "from must list the customers to merge into this one")
		}
	})
	if !ok || !s.mayChange(w, r) {
		return
	}
	res, err := s.Customers.Merge(r.Context(), tenantOf(r).ID, r.PathValue("id"), req.From, req.Prefer, req.DryRun, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	conflicts := res.Conflicts
	if conflicts == nil {
		conflicts = []customer.Conflict{}
	}
	writeVersioned(w, http.StatusOK, res.Customer.Version, res.Position, mergeView{Customer: contactView{Snapshot: res.Customer}, Conflicts: conflicts, DryRun: res.DryRun})
}

type unmergeRequest struct {
	Contact string `json:"contact"`
}

func (s *Server) unmergeContact(w http.ResponseWriter, r *http.Request) {
	var req unmergeRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) { c.required("contact", req.Contact) })
	if !ok || !s.mayChange(w, r) {
		return
	}
	res, err := s.Customers.Unmerge(r.Context(), tenantOf(r).ID, r.PathValue("id"), req.Contact, m)
	s.answerContact(w, r, http.StatusOK, res, err)
}

type contactNoteRequest struct {
	Body    string        `json:"body"`
	Permit  domain.Permit `json:"permit"`
	Owner   string        `json:"owner"`
	Tag     string        `json:"tag"`
	Channel string        `json:"channel"`
}

// noteView is a note as the native API shows it.
type noteView struct {
	ID         string        `json:"id"`
	CustomerID string        `json:"customer_id"`
	Body       string        `json:"body"`
	Author     domain.Actor  `json:"author"`
	Owner      string        `json:"owner,omitempty"`
	Permit     domain.Permit `json:"permit"`
	Tag        string        `json:"tag,omitempty"`
	Channel    string        `json:"channel,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
}

func noteOf(customerID string, n customer.NoteAdded) noteView {
	return noteView{ID: n.NoteID, CustomerID: customerID, Body: n.Body, Author: n.By, Owner: n.Owner, Permit: n.Permit,
		Tag: n.Tag, Channel: n.Channel, CreatedAt: n.At}
}

func (s *Server) addContactNote(w http.ResponseWriter, r *http.Request) {
	var req contactNoteRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) { c.required("body", req.Body) })
	if !ok || !s.mayChange(w, r) {
		return
	}
	n, res, err := s.Customers.AddNote(r.Context(), tenantOf(r).ID, r.PathValue("id"),
		app.NoteInput{Body: req.Body, Permit: req.Permit, Owner: req.Owner, Tag: req.Tag, Channel: req.Channel}, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Eventdesk-Position", res.Position.String())
	web.WriteJSON(w, http.StatusCreated, "application/json", noteOf(res.Customer.ID, n))
}

// listContacts lists and searches customers (contacts.v1). A write's
// Eventdesk-Position as min_position makes the list wait for it.
func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := projections.ContactFilter{TenantID: tenantOf(r).ID, Q: q.Get("q"), Cursor: q.Get("cursor"),
		Owner: q.Get("owner"), Account: q.Get("account_id"), Channel: q.Get("channel")}
	var c fieldCheck
	f.Kind, f.Tag = multi(q, "kind"), multi(q, "tag")
	for _, k := range f.Kind {
		c.oneOf("kind", k, kinds)
	}
	for name, dst := range map[string]*time.Time{"created_from": &f.CreatedFrom, "created_to": &f.CreatedTo,
		"updated_from": &f.UpdatedFrom, "updated_to": &f.UpdatedTo} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				c.add(name, "invalid", "%s must be an RFC 3339 time, e.g. 2026-11-22T12:00:00Z", name)
			}
			*dst = t
		}
	}
	switch v := q.Get("include_merged"); v {
	case "", "false":
	case "true":
		f.IncludeMerged = true
	default:
		c.add("include_merged", "invalid", "include_merged must be true or false")
	}
	f.Limit = parseLimit(&c, q.Get("limit"), 50, 200)
	minPos := parseMinPosition(&c, q.Get("min_position"))
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Q != "" {
		ids, err := s.Customers.Identify(r.Context(), f.TenantID, []customer.Identity{{Kind: customer.ByPhone, Value: f.Q}})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(ids) > 0 {
			f.QPhone = ids[0].Value
		}
	}
	v, err := s.viewer(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Viewer = v
	if !minPos.IsZero() && !s.waitFor(r.Context(), projections.ContactsName, minPos) {
		w.Header().Set("Eventdesk-Stale", "true")
	}
	page, err := s.Contacts.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := make([]contactView, len(page.Contacts))
	for i, c := range page.Contacts {
		list[i] = contactView{Snapshot: c}
	}
	body := map[string]any{"contacts": list, "next_cursor": nil}
	if page.NextCursor != "" {
		body["next_cursor"] = page.NextCursor
	}
	web.WriteJSON(w, http.StatusOK, "application/json", body)
}

// timelineOf reads the page of the timeline of the customer the path
// names (its survivor, if merged) that kinds select, if the caller may see
// the customer.
func (s *Server) timelineOf(w http.ResponseWriter, r *http.Request, kinds []string) (customer.Snapshot, projections.TimelinePage, bool) {
	q := r.URL.Query()
	var c fieldCheck
	limit := parseLimit(&c, q.Get("limit"), 50, 200)
	minPos := parseMinPosition(&c, q.Get("min_position"))
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return customer.Snapshot{}, projections.TimelinePage{}, false
	}
	cust, _, err := s.Customers.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err == nil {
		err = s.visible(r, cust)
	}
	var v domain.Viewer
	if err == nil {
		v, err = s.viewer(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return customer.Snapshot{}, projections.TimelinePage{}, false
	}
	if !minPos.IsZero() && !s.waitFor(r.Context(), projections.ContactsName, minPos) {
		w.Header().Set("Eventdesk-Stale", "true")
	}
	page, err := s.Contacts.Timeline(r.Context(), projections.TimelineQuery{TenantID: tenantOf(r).ID, CustomerID: cust.ID,
		Kinds: kinds, Viewer: v, Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		s.fail(w, r, err)
		return customer.Snapshot{}, projections.TimelinePage{}, false
	}
	return cust, page, true
}

// contactTimeline answers a customer's timeline: its notes, tickets,
// deals, duplicate submissions, conversion, merges and un-merges, and
// those of the customers merged into it, newest first.
func (s *Server) contactTimeline(w http.ResponseWriter, r *http.Request) {
	kindsQ := multi(r.URL.Query(), "kind")
	_, page, ok := s.timelineOf(w, r, kindsQ)
	if !ok {
		return
	}
	items := page.Items
	if items == nil {
		items = []projections.TimelineItem{}
	}
	body := map[string]any{"items": items, "next_cursor": nil}
	if page.NextCursor != "" {
		body["next_cursor"] = page.NextCursor
	}
	web.WriteJSON(w, http.StatusOK, "application/json", body)
}

// contactNotes answers a customer's notes (those of customers merged into
// it included), newest first.
func (s *Server) contactNotes(w http.ResponseWriter, r *http.Request) {
	_, page, ok := s.timelineOf(w, r, []string{projections.EntryNote})
	if !ok {
		return
	}
	notes := make([]noteView, 0, len(page.Items))
	for _, it := range page.Items {
		var n customer.NoteAdded
		if err := json.Unmarshal(it.Data, &n); err != nil {
			s.fail(w, r, fmt.Errorf("note %s: %w", it.ID, err))
			return
		}
		notes = append(notes, noteOf(it.CustomerID, n))
	}
	body := map[string]any{"notes": notes, "next_cursor": nil}
	if page.NextCursor != "" {
		body["next_cursor"] = page.NextCursor
	}
	web.WriteJSON(w, http.StatusOK, "application/json", body)
}
