package pipeline

import "github.com/eventdesk/eventdesk/domain"

// Pipeline events. Each embeds domain.Change. Type strings and JSON names
// are persisted.
type (
	// PipelineCreated created a pipeline with its stages, in order.
	PipelineCreated struct {
		domain.Change
		ID     string  `json:"id"`
		Name   string  `json:"name"`
		Stages []Stage `json:"stages"`
	}

	// PipelineRenamed gave the pipeline a new name.
	PipelineRenamed struct {
		domain.Change
		Name string `json:"name"`
	}

	// StagesSet replaced the pipeline's stages (all of them, in order).
	StagesSet struct {
		domain.Change
		Stages []Stage `json:"stages"`
	}
)

// EventType returns "pipeline.created".
func (PipelineCreated) EventType() string { return "pipeline.created" }

// EventType returns "pipeline.renamed".
func (PipelineRenamed) EventType() string { return "pipeline.renamed" }

// EventType returns "pipeline.stages_set".
func (StagesSet) EventType() string { return "pipeline.stages_set" }

var codec = domain.NewCodec("pipeline", domain.EventKindOf[PipelineCreated](), domain.EventKindOf[PipelineRenamed](),
	domain.EventKindOf[StagesSet]())

// Codec returns the codec of the events a Pipeline records.
func Codec() *domain.Codec { return codec }

// Encode returns the JSON object stored as e's data.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns stored data back into the event, upcasting older versions.
func Decode(eventType string, version int, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, version, data)
}

// Errors of pipeline commands. Match them with errors.Is.
var (
	// ErrNotFound: no such pipeline in the tenant.
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "pipeline_not_found", Msg: "pipeline not found"}
	// ErrNameTaken: another pipeline of the tenant has (or had) the name.
	ErrNameTaken = &domain.Error{Kind: domain.Conflict, Code: "pipeline_name_taken", Msg: "a pipeline with this name exists or existed"}
	// ErrInvalidField: malformed input; Field names it.
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
)

// IndexStreamType and IndexStreamID name a tenant's pipeline index: one
// stream per tenant holding a PipelineIndexed per created pipeline, written
// in the creation's own atomic append.
const (
	IndexStreamType = "pipeline_index"
	IndexStreamID   = "pipelines"
)

// PipelineIndexed added a pipeline to its tenant's index. It is not
// Audited: the pipeline's creation says who and when.
type PipelineIndexed struct {
	ID string `json:"id"`
}

// EventType returns "pipeline_index.added".
func (PipelineIndexed) EventType() string { return "pipeline_index.added" }

var indexCodec = domain.NewCodec("pipeline index", domain.EventKindOf[PipelineIndexed]())

// IndexCodec returns the codec of the pipeline index's events.
func IndexCodec() *domain.Codec { return indexCodec }
