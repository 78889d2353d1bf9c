package customer

import (
	"encoding/json"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of customers; the stream id is the
// customer's id (a lower-case UUID). It is persisted.
const StreamType = "customer"

// Kind is what a customer is. Values are persisted.
type Kind string

// The kinds of customer, with the prefix of their readable codes.
const (
	// Contact is a person (code PID-n).
	Contact Kind = "contact"
	// Account is a company or organisation (code CID-n; seed 004 type 1).
	Account Kind = "account"
	// Lead is a prospective customer (code LID-n) that can be converted to
	// a contact.
	Lead Kind = "lead"
)

// Gender is seed 004's gender: 0 male, 1 female, 2 other.
type Gender int

// The genders.
const (
	Male   Gender = 0
	Female Gender = 1
	Other  Gender = 2
)

// Profile is everything a customer says about itself: the superset of seed
// 004's contact, account and lead fields. Its JSON form is stored in
// events. Values are normalised by New and Update (see Normalize).
type Profile struct {
	Name        string    `json:"name"`
	LastName    string    `json:"last_name,omitempty"`
	Title       string    `json:"title,omitempty"`
	Passport    string    `json:"passport,omitempty"`
	Gender      *Gender   `json:"gender,omitempty"`
	Background  string    `json:"background,omitempty"`
	DateOfBirth string    `json:"date_of_birth,omitempty"` // YYYY-MM-DD
	Emails      []Email   `json:"emails,omitempty"`
	Phones      []Phone   `json:"phones,omitempty"`
	Addresses   []Address `json:"addresses,omitempty"`
	Websites    []string  `json:"websites,omitempty"`
	IMs         []IM      `json:"ims,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	// Custom holds custom field values by field name, each in the JSON form
	// of its type (text and select: a string; number: a number; date: a
	// "YYYY-MM-DD" or RFC 3339 string; checkbox: an array of strings). The
	// application layer checks them against the tenant's definitions.
	Custom map[string]json.RawMessage `json:"custom,omitempty"`
	// ContactID is the customer's id in an outside system (seed 004's
	// contactId, LeadSquared's LeadId, a storefront user id).
	ContactID string `json:"contact_id,omitempty"`
	// Account is the id of the account (Kind Account) the customer belongs
	// to; empty for accounts themselves and for customers of no account.
	Account string `json:"account_id,omitempty"`
	// Owner is the id of the agent who owns the customer (for its Permit).
	Owner   string        `json:"owner,omitempty"`
	Permit  domain.Permit `json:"permit"`
	Channel string        `json:"channel,omitempty"`
}

// Email is one of a customer's e-mail addresses. Value is lower case.
type Email struct {
	Type  string `json:"type,omitempty"` // Work, Home, Mobile or Other
	Value string `json:"value"`
}

// Phone is one of a customer's phone numbers: Value as written, Normalized
// its E.164 form (+84905000001), or its digits alone when it does not parse
// as a number of the tenant's region. Phones are matched by Normalized.
type Phone struct {
	Type       string `json:"type,omitempty"` // Work, Home, Mobile or Other
	Value      string `json:"value"`
	Normalized string `json:"normalized"`
}

// Address is a postal address. Country is a code ("VN") with an optional
// name.
type Address struct {
	Type    string  `json:"type,omitempty"` // Work, Home or Other
	Street  string  `json:"street,omitempty"`
	City    string  `json:"city,omitempty"`
	State   string  `json:"state,omitempty"`
	Zip     string  `json:"zip,omitempty"`
	Country Country `json:"country,omitzero"`
}

// Country is a country by code and, optionally, name.
type Country struct {
	Code string `json:"code,omitempty"`
	Name string `json:"name,omitempty"`
}

// IM is an instant-messaging handle.
type IM struct {
	Protocol string `json:"protocol"` // Skype, Facebook, Yahoo, Viber, Hangouts or Other
	Value    string `json:"value"`
}

// IdentityKind is a kind of identity. Values are persisted.
type IdentityKind string

// The identity kinds.
const (
	ByEmail     IdentityKind = "email"
	ByPhone     IdentityKind = "phone"
	ByPassport  IdentityKind = "passport"
	ByContactID IdentityKind = "contact_id"
	ByCode      IdentityKind = "code"
)

// Identity is something that names at most one live customer of a tenant
// at a time: a normalised e-mail, phone, passport, external contact id or
// readable code.
type Identity struct {
	Kind  IdentityKind `json:"kind"`
	Value string       `json:"value"`
}
