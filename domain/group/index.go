package group

import "github.com/eventdesk/eventdesk/domain"

// IndexStreamType is the type of a tenant's group index: one stream per
// tenant (stream id IndexStreamID) holding a GroupIndexed per created group,
// written in the same atomic append as the group's creation, so that
// listing groups needs no scan of the log and never lags a create.
const (
	IndexStreamType = "group_index"
	IndexStreamID   = "groups"
)

// GroupIndexed added a group to its tenant's group index. It is not Audited:
// the group's own creation event says who created it and when.
type GroupIndexed struct {
	ID string `json:"id"`
}

// EventType returns "group_index.added".
func (GroupIndexed) EventType() string { return "group_index.added" }

// indexCodec knows the events of the group index.
var indexCodec = domain.NewCodec("group index", domain.EventKindOf[GroupIndexed]())

// IndexCodec returns the codec of the group index's events.
func IndexCodec() *domain.Codec { return indexCodec }
