package ticket

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Limits on ticket input. Lengths count characters (runes) unless noted.
const (
	MaxTitleLength       = 500
	MaxDescriptionLength = 65_536
	MaxChannelLength     = 64
	MaxTagLength         = 64
	MaxTags              = 50
	MaxSubscribers       = 50
	MaxAttachments       = 100
	MaxUserAgentLength   = 1024
	MaxTextLength        = 10_000 // activity text, feedback comment
	MaxReferenceLength   = 256    // each external reference
	MaxCustomKeys        = 200    // custom fields and integration entries
	MaxCustomKeyLength   = 128
	MaxJSONSize          = 64 << 10 // bytes: a history value, all custom fields, the integration map, a form response
	MaxFormFields        = 200
)

// Priority is how urgent a ticket is. The four values are fixed (Fynd's
// PriorityEnum); tenants configure only their display and color.
type Priority string

// The priorities, from least to most urgent.
const (
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// DefaultPriority is given to tickets created without one. It is low, as in
// LeadSquared's sample and Fynd's panel: urgency has to be asked for.
const DefaultPriority = PriorityLow

// Priorities returns every Priority, least urgent first.
func Priorities() []Priority {
	return []Priority{PriorityLow, PriorityMedium, PriorityHigh, PriorityUrgent}
}

// Valid reports whether p is one of Priorities.
func (p Priority) Valid() bool {
	switch p {
	case PriorityLow, PriorityMedium, PriorityHigh, PriorityUrgent:
		return true
	}
	return false
}

// ParsePriority returns the Priority named s, ignoring case and surrounding
// space so that adapters can pass LeadSquared's "Low"; otherwise
// ErrUnknownPriority listing the allowed values. Commands themselves accept
// only the exact lower-case values.
func ParsePriority(s string) (Priority, error) {
	if p := Priority(strings.ToLower(strings.TrimSpace(s))); p.Valid() {
		return p, nil
	}
	return "", ErrUnknownPriority.At("priority").Withf("unknown priority %q; allowed: %s", s, list(Priorities()))
}

// StatusKind is what a tenant-configured status means to the rules: only
// the kind, never the key, decides what a ticket may do.
type StatusKind string

// The status kinds.
const (
	// KindOpen: work to do (e.g. "open", "in_progress").
	KindOpen StatusKind = "open"
	// KindPending: waiting on someone else.
	KindPending StatusKind = "pending"
	// KindResolved: solved, awaiting confirmation; entering it requests
	// feedback.
	KindResolved StatusKind = "resolved"
	// KindClosed: done; only Reopen leaves it.
	KindClosed StatusKind = "closed"
)

// StatusKinds returns every StatusKind.
func StatusKinds() []StatusKind { return []StatusKind{KindOpen, KindPending, KindResolved, KindClosed} }

// Valid reports whether k is one of StatusKinds.
func (k StatusKind) Valid() bool {
	switch k {
	case KindOpen, KindPending, KindResolved, KindClosed:
		return true
	}
	return false
}

// HistoryType is the type of a ticket history entry (Fynd HistoryTypeEnum).
type HistoryType string

// The history types.
const (
	HistoryComment HistoryType = "comment"
	HistoryLog     HistoryType = "log"
	HistoryRating  HistoryType = "rating"
	HistoryThread  HistoryType = "thread"
)

// HistoryTypes returns every HistoryType.
func HistoryTypes() []HistoryType {
	return []HistoryType{HistoryComment, HistoryLog, HistoryRating, HistoryThread}
}

// Valid reports whether h is one of HistoryTypes.
func (h HistoryType) Valid() bool {
	switch h {
	case HistoryComment, HistoryLog, HistoryRating, HistoryThread:
		return true
	}
	return false
}

// Visibility says who may see a history entry.
type Visibility string

// The visibilities. An entry logged without one is public.
const (
	Public   Visibility = "public"
	Internal Visibility = "internal"
)

// Direction says which way a portal activity went (LeadSquared).
type Direction string

// The directions, upper case as LeadSquared sends them.
const (
	Inbound  Direction = "INBOUND"
	Outbound Direction = "OUTBOUND"
)

// AssetType is the type of a ticket attachment (Fynd TicketAsset.type).
type AssetType string

// The asset types.
const (
	AssetImage      AssetType = "image"
	AssetVideo      AssetType = "video"
	AssetFile       AssetType = "file"
	AssetYouTube    AssetType = "youtube"
	AssetProduct    AssetType = "product"
	AssetCollection AssetType = "collection"
	AssetBrand      AssetType = "brand"
	AssetShipment   AssetType = "shipment"
	AssetOrder      AssetType = "order"
)

// AssetTypes returns every AssetType.
func AssetTypes() []AssetType {
	return []AssetType{AssetImage, AssetVideo, AssetFile, AssetYouTube, AssetProduct, AssetCollection, AssetBrand, AssetShipment, AssetOrder}
}

// Valid reports whether a is one of AssetTypes.
func (a AssetType) Valid() bool {
	for _, t := range AssetTypes() {
		if a == t {
			return true
		}
	}
	return false
}

// Attachment is an asset linked to a ticket: Fynd's TicketAsset (type,
// value, display), plus File when Eventdesk stores the bytes itself.
type Attachment struct {
	Type    AssetType `json:"type"`
	Value   string    `json:"value"`
	Display string    `json:"display,omitempty"`
	File    *File     `json:"file,omitempty"`
}

// File describes an uploaded file kept in Eventdesk's content-addressed
// storage.
type File struct {
	// ID is the attachment id (a UUID), unique on the ticket.
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	// SHA256 is the lower-case hex digest of the content; it names the file
	// in storage.
	SHA256 string `json:"sha256"`
}

// References are identifiers and contacts the ticket has in other systems.
// Empty fields are unknown.
type References struct {
	// LeadID is LeadSquared's LeadId.
	LeadID string `json:"lead_id,omitempty"`
	// CustomerID is LeadSquared's RelatedCustomerId.
	CustomerID   string `json:"customer_id,omitempty"`
	ContactName  string `json:"contact_name,omitempty"`
	ContactEmail string `json:"contact_email,omitempty"`
	ContactPhone string `json:"contact_phone,omitempty"`
	// ClientTicketID is the support-message client's own ticket UUID
	// ("ticketId").
	ClientTicketID string `json:"client_ticket_id,omitempty"`
	// SupportTicketID is the Zendesk/support ticket id ("supportTicketId",
	// "zendeskTicketId").
	SupportTicketID string `json:"support_ticket_id,omitempty"`
	// UserID is the support-message user's UUID ("uuid").
	UserID string `json:"user_id,omitempty"`
	// DeviceID is the support-message device UDID ("udid").
	DeviceID string `json:"device_id,omitempty"`
}

// CustomerRef names the CRM customer a ticket is linked to: its id (a
// lower-case UUID) and its readable code (PID-n, CID-n, LID-n) at the time
// of the link. The ticket package knows customers only by these strings.
type CustomerRef struct {
	ID   string `json:"id"`
	Code string `json:"code,omitempty"`
}

// CustomerIdentity is the identity a ticket's customer was found by: Kind
// is "email", "phone", "passport", "contact_id" or "code" (the CRM's
// identity kinds), Value its normalised value.
type CustomerIdentity struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// FormResponse is what a custom form submission put on the ticket it
// created.
type FormResponse struct {
	// Slug is the form's slug.
	Slug string `json:"slug"`
	// ResponseID identifies the submission (Fynd's response_id); optional.
	ResponseID string      `json:"response_id,omitempty"`
	Fields     []FormField `json:"fields,omitempty"`
}

// FormField is one answer of a form submission. Value is any JSON value (a
// string, a number, an array for checkboxes).
type FormField struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// Feedback is the customer's latest rating of how the ticket was handled.
type Feedback struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment,omitempty"`
}

// Key renders a ticket number the way people read it: "#" and at least
// three digits, zero padded (34 → "#034", 1234 → "#1234").
func Key(number int64) string {
	s := strconv.FormatInt(number, 10)
	if len(s) < 3 {
		s = strings.Repeat("0", 3-len(s)) + s
	}
	return "#" + s
}

// ParseKey accepts "#034", "034" or "34" and returns the number; ok is false
// for anything else, including numbers below 1.
func ParseKey(s string) (number int64, ok bool) {
	s = strings.TrimPrefix(s, "#")
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

func list[S ~string](xs []S) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(x))
	}
	return b.String()
}
