package form

import "github.com/eventdesk/eventdesk/domain"

// IndexStreamType is the type of a tenant's form index: one stream per
// tenant (stream id IndexStreamID) holding a FormIndexed per created form,
// so that listing forms needs no scan of the whole log.
const (
	IndexStreamType = "form_index"
	IndexStreamID   = "forms"
)

// FormIndexed added a form to its tenant's form index. It is not Audited:
// the form's own FormCreated says who created it and when.
type FormIndexed struct {
	Slug string `json:"slug"`
}

// EventType implements domain.Event.
func (FormIndexed) EventType() string { return "form_index.added" }

// indexCodec knows the events of the form index.
var indexCodec = domain.NewCodec("form index", domain.EventKindOf[FormIndexed]())

// IndexCodec returns the codec of the form index's events (FormIndexed).
// It is immutable; tests derive variants from it with With.
func IndexCodec() *domain.Codec { return indexCodec }
