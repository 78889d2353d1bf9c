package customer

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// MaxNoteLength bounds a note's body, in characters.
const MaxNoteLength = 65536

// codePrefix is the code prefix of each kind.
var codePrefix = map[Kind]string{Contact: "PID", Account: "CID", Lead: "LID"}

// Kinds returns every Kind, in documentation order.
func Kinds() []Kind { return []Kind{Contact, Account, Lead} }

// CodePrefix returns the prefix of kind's codes ("PID", "CID", "LID") and
// whether kind is one.
func CodePrefix(kind Kind) (string, bool) {
	p, ok := codePrefix[kind]
	return p, ok
}

// validCode reports whether code is prefix + "-" + a positive integer,
// exactly as ParseCode writes it.
func validCode(code, prefix string) bool {
	c, ok := ParseCode(code)
	return ok && c == code && strings.HasPrefix(code, prefix+"-")
}

// ParseCode returns the canonical form of a customer code ("pid-12" →
// "PID-12") and whether s is one: PID, CID or LID, a dash and a positive
// integer without leading zeros.
func ParseCode(s string) (string, bool) {
	prefix, num, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-")
	if !ok || (prefix != "PID" && prefix != "CID" && prefix != "LID") {
		return "", false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != num {
		return "", false
	}
	return prefix + "-" + num, true
}

// Create is the command that creates a customer. ID is a lower-case UUID
// and Code its first readable code, both chosen by the caller.
type Create struct {
	By      domain.Actor
	Source  domain.Source
	ID      string
	Kind    Kind
	Code    string
	Profile Profile
}

// New decides Create and returns the new customer with CustomerCreated
// pending.
func New(c Create, at time.Time) (*Customer, error) {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !domain.ValidUUID(c.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id must be a lower-case UUID"))
	}
	prefix, ok := codePrefix[c.Kind]
	switch {
	case !ok:
		errs = append(errs, ErrInvalidField.At("kind").Withf("kind %q is not one of contact, account, lead", c.Kind))
	case !validCode(c.Code, prefix):
		errs = append(errs, ErrInvalidField.At("code").Withf("code %q is not %s-<n>", c.Code, prefix))
	}
	p, err := Normalize(c.Profile)
	errs = append(errs, err)
	if c.Kind == Account && p.Account != "" {
		errs = append(errs, ErrInvalidField.At("account_id").Withf("account_id: an account belongs to no account"))
	}
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	cu := &Customer{}
	cu.record(CustomerCreated{Change: ch, ID: c.ID, Kind: c.Kind, Code: c.Code, Profile: p})
	return cu, nil
}

// live checks the customer exists and is not merged, and returns the
// change a command records.
func (c *Customer) live(by domain.Actor, src domain.Source, at time.Time) (domain.Change, error) {
	ch, err := domain.NewChange(by, src, at)
	switch {
	case err != nil:
		return domain.Change{}, err
	case !c.Exists():
		return domain.Change{}, ErrNotFound
	case c.mergedInto != "":
		return domain.Change{}, ErrMerged.Withf("customer %s is merged into %s", c.id, c.mergedInto)
	}
	return ch, nil
}

// sameJSON reports whether a and b encode alike.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// Update replaces the profile with p, normalised; it records
// CustomerUpdated only if that changes anything.
func (c *Customer) Update(by domain.Actor, src domain.Source, p Profile, at time.Time) error {
	p, err := Normalize(p)
	if err != nil {
		return err
	}
	ch, err := c.live(by, src, at)
	if err != nil {
		return err
	}
	if c.kind == Account && p.Account != "" {
		return ErrInvalidField.At("account_id").Withf("account_id: an account belongs to no account")
	}
	if p.Account == c.id && p.Account != "" {
		return ErrInvalidField.At("account_id").Withf("account_id: a customer does not belong to itself")
	}
	if !sameJSON(p, c.profile) {
		c.record(CustomerUpdated{Change: ch, Profile: p})
	}
	return nil
}

// RecordDuplicate records that a create was submitted for this customer:
// matched are the identities it holds, submitted what was sent.
func (c *Customer) RecordDuplicate(by domain.Actor, src domain.Source, matched []Identity, submitted Profile, at time.Time) error {
	ch, err := c.live(by, src, at)
	if err != nil {
		return err
	}
	c.record(DuplicateSubmitted{Change: ch, Matched: matched, Submitted: submitted})
	return nil
}

// Convert turns a lead into a contact with code, a PID code.
func (c *Customer) Convert(by domain.Actor, src domain.Source, code string, at time.Time) error {
	ch, err := c.live(by, src, at)
	if err != nil {
		return err
	}
	if c.kind != Lead {
		return ErrNotLead.Withf("customer %s is a %s, not a lead", c.code, c.kind)
	}
	if !validCode(code, "PID") {
		return ErrInvalidField.At("code").Withf("code %q is not PID-<n>", code)
	}
	c.record(LeadConverted{Change: ch, Code: code})
	return nil
}

// LinkTicket attaches a ticket, once.
func (c *Customer) LinkTicket(by domain.Actor, src domain.Source, ticketID string, number int64, title string, via *Identity, at time.Time) error {
	ch, err := c.live(by, src, at)
	if err != nil {
		return err
	}
	if !domain.ValidUUID(ticketID) {
		return ErrInvalidField.At("ticket_id").Withf("ticket_id must be a lower-case UUID")
	}
	if c.has(Item{Kind: "ticket", ID: ticketID}) {
		return nil
	}
	c.record(TicketLinked{Change: ch, TicketID: ticketID, Number: number, Title: title, Via: via})
	return nil
}

func (c *Customer) has(it Item) bool {
	for _, x := range c.items {
		if x == it {
			return true
		}
	}
	return false
}

// NoteInput is a note to add.
type NoteInput struct {
	NoteID  string
	Body    string
	Owner   string
	Permit  domain.Permit
	Tag     string
	Channel string
	Via     *Identity
}

// AddNote adds a note to the customer's timeline.
func (c *Customer) AddNote(by domain.Actor, src domain.Source, n NoteInput, at time.Time) error {
	var ck checker
	if !domain.ValidUUID(n.NoteID) {
		ck.bad("id", "must be a lower-case UUID")
	}
	body := strings.TrimSpace(n.Body)
	switch {
	case body == "":
		ck.bad("body", "is required")
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		ck.bad("body", "must be UTF-8 text without NUL")
	case utf8.RuneCountInString(body) > MaxNoteLength:
		ck.bad("body", "must be at most %d characters", MaxNoteLength)
	}
	if n.Owner != "" && !domain.ValidUUID(n.Owner) {
		ck.bad("owner", "must be a lower-case UUID")
	}
	permit, err := n.Permit.Normalize("permit")
	if err != nil {
		ck.errs = append(ck.errs, err)
	}
	tag := ck.text("tag", n.Tag, MaxTagLength)
	channel := ck.text("channel", n.Channel, MaxChannelLength)
	if err := domain.Join(ck.errs...); err != nil {
		return err
	}
	ch, err := c.live(by, src, at)
	if err != nil {
		return err
	}
	if c.has(Item{Kind: "note", ID: n.NoteID}) {
		return nil
	}
	c.record(NoteAdded{Change: ch, NoteID: n.NoteID, Body: body, Owner: n.Owner, Permit: permit, Tag: tag, Channel: channel, Via: n.Via})
	return nil
}

// Deal roles of a linked customer.
const (
	RoleCustomer = "customer" // the customer the deal is with
	RoleContact  = "contact"  // a related contact
)

// LinkDeal attaches a deal in role RoleCustomer or RoleContact, once per
// deal and role.
func (c *Customer) LinkDeal(by domain.Actor, src domain.Source, dealID, name, role string, via *Identity, at time.Time) error {
	ch, err := c.live(by, src, at)
	if err != nil {
		return err
	}
	if !domain.ValidUUID(dealID) {
		return ErrInvalidField.At("deal_id").Withf("deal_id must be a lower-case UUID")
	}
	if role != RoleCustomer && role != RoleContact {
		return ErrInvalidField.At("role").Withf("role %q is not customer or contact", role)
	}
	if c.linkedDeal(dealID, role) {
		return nil
	}
	c.record(DealLinked{Change: ch, DealID: dealID, Name: name, Role: role, Via: via})
	return nil
}

// linkedDeal reports whether the deal is attached in role.
func (c *Customer) linkedDeal(dealID, role string) bool { return c.dealRoles[dealID+"/"+role] }
