package domain_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

var errThing = &domain.Error{Kind: domain.Invalid, Code: "bad_thing", Field: "thing", Msg: "bad thing"}

func TestError_Is(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"the sentinel itself", errThing, errThing, true},
		{"a reworded copy", errThing.Withf("thing %q is bad", "x"), errThing, true},
		{"a copy at another field, target without field", errThing.At("things[2]"), &domain.Error{Code: "bad_thing"}, true},
		{"a copy at another field, target with field", errThing.At("things[2]"), errThing, false},
		{"target names the same field", errThing.At("things[2]"), errThing.At("things[2]"), true},
		{"wrapped", fmt.Errorf("save: %w", errThing), errThing, true},
		{"joined", errors.Join(errors.New("x"), errThing), errThing, true},
		{"another code", errThing, &domain.Error{Code: "other"}, false},
		{"codeless errors never match by code", &domain.Error{Msg: "a"}, &domain.Error{Msg: "a"}, false},
		{"not a domain error", errThing, errors.New("bad thing"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Fatalf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestError_WithfAndAtCopy(t *testing.T) {
	e := errThing.Withf("n=%d", 3).At("x")
	if e.Msg != "n=3" || e.Field != "x" || e.Kind != domain.Invalid || e.Code != "bad_thing" {
		t.Fatalf("got %+v, want Msg n=3, Field x, Kind Invalid, Code bad_thing", *e)
	}
	if errThing.Msg != "bad thing" || errThing.Field != "thing" {
		t.Fatalf("sentinel modified: got %+v", *errThing)
	}
	if got, want := (&domain.Error{Code: "c"}).Error(), "c"; got != want {
		t.Fatalf("Error() without Msg = %q, want %q", got, want)
	}
}

func TestHelpers(t *testing.T) {
	tests := []struct {
		err   *domain.Error
		kind  domain.Kind
		code  string
		msg   string
		field string
	}{
		{domain.Invalidf("title", "title is %s", "required"), domain.Invalid, "invalid", "title is required", "title"},
		{domain.NotFoundf("no %s", "ticket"), domain.NotFound, "not_found", "no ticket", ""},
		{domain.Conflictf("busy"), domain.Conflict, "conflict", "busy", ""},
		{domain.PreconditionFailedf("stale"), domain.PreconditionFailed, "precondition_failed", "stale", ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			e := tt.err
			if e.Kind != tt.kind || e.Code != tt.code || e.Msg != tt.msg || e.Field != tt.field {
				t.Fatalf("got %+v, want {Kind:%v Code:%s Msg:%s Field:%s}", *e, tt.kind, tt.code, tt.msg, tt.field)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want domain.Kind
	}{
		{nil, domain.Internal},
		{errors.New("boom"), domain.Internal},
		{errThing, domain.Invalid},
		{fmt.Errorf("op: %w", domain.Conflictf("x")), domain.Conflict},
	}
	for _, tt := range tests {
		if got := domain.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if got, want := domain.PreconditionFailed.String(), "precondition_failed"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestErrorsAndJoin(t *testing.T) {
	a, b, c := errThing.At("a"), errThing.At("b"), errThing.At("c")
	err := domain.Join(a, nil, fmt.Errorf("wrapped: %w", domain.Join(b, c)))
	got := domain.Errors(err)
	if len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Fatalf("Errors() = %v, want [a b c]", got)
	}
	if domain.Join() != nil || domain.Join(nil, nil) != nil {
		t.Fatalf("Join of nothing is not nil")
	}
	if got := domain.Join(nil, a); got != error(a) {
		t.Fatalf("Join(nil, a) = %v, want a itself", got)
	}
	if got := domain.Errors(nil); got != nil {
		t.Fatalf("Errors(nil) = %v, want nil", got)
	}
}

func TestActor_Validate(t *testing.T) {
	tests := []struct {
		name    string
		actor   domain.Actor
		wantErr error
	}{
		{"agent with id", domain.Actor{ID: "u1", Kind: domain.ActorAgent}, nil},
		{"user with email", domain.Actor{Email: "a@example.com", Kind: domain.ActorUser}, nil},
		{"bare system", domain.Actor{Kind: domain.ActorSystem}, nil},
		{"integration", domain.Actor{ID: "key-1", Name: "Zapier", Kind: domain.ActorIntegration}, nil},
		{"no kind", domain.Actor{ID: "u1"}, domain.ErrInvalidActor},
		{"unknown kind", domain.Actor{ID: "u1", Kind: "robot"}, domain.ErrInvalidActor},
		{"no id nor email", domain.Actor{Name: "Ana", Kind: domain.ActorAgent}, domain.ErrInvalidActor},
		{"bad email", domain.Actor{Email: "ana at example", Kind: domain.ActorUser}, domain.ErrInvalidActor},
		{"long id", domain.Actor{ID: string(make([]byte, 129)), Kind: domain.ActorUser}, domain.ErrInvalidActor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.actor.Validate("by")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate() = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if de := domain.Errors(err); len(de) != 1 || de[0].Field != "by" {
					t.Fatalf("Validate() field = %v, want by", de)
				}
			}
		})
	}
}

func TestParseSource(t *testing.T) {
	for _, s := range domain.Sources() {
		if got, err := domain.ParseSource(string(s)); err != nil || got != s {
			t.Errorf("ParseSource(%q) = %q, %v; want %q, nil", s, got, err, s)
		}
	}
	for _, s := range []string{"", "API", "fax"} {
		if _, err := domain.ParseSource(s); !errors.Is(err, domain.ErrUnknownSource) {
			t.Errorf("ParseSource(%q) error = %v, want ErrUnknownSource", s, err)
		}
	}
}

func TestNewChange(t *testing.T) {
	agent := domain.Actor{ID: "u1", Kind: domain.ActorAgent}
	kolkata := time.FixedZone("IST", 5*3600+1800)
	at := time.Date(2025, 3, 1, 17, 30, 0, 0, kolkata)

	got, err := domain.NewChange(agent, domain.SourceAPI, at)
	want := domain.Change{By: agent, Source: domain.SourceAPI, At: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	if err != nil || got != want {
		t.Fatalf("NewChange() = %+v, %v; want %+v, nil", got, err, want)
	}
	if got.Audit() != got {
		t.Fatalf("Audit() = %+v, want %+v", got.Audit(), got)
	}

	if _, err := domain.NewChange(agent, domain.SourceAPI, time.Time{}); domain.KindOf(err) != domain.Internal || err == nil {
		t.Fatalf("zero time: got %v, want an Internal error", err)
	}
	_, err = domain.NewChange(domain.Actor{}, "fax", at)
	if !errors.Is(err, domain.ErrInvalidActor) || !errors.Is(err, domain.ErrUnknownSource) {
		t.Fatalf("bad actor and source: got %v, want both ErrInvalidActor and ErrUnknownSource", err)
	}
}

func TestValidUUID(t *testing.T) {
	tests := map[string]bool{
		"79af4bc5-a995-4262-92ee-0da381ccaf07": true,
		"7237F578-828D-43D9-995D-F8B7AC8A4881": false, // upper case
		"79af4bc5a9954262-92ee-0da381ccaf07aa": false,
		"79af4bc5-a995-4262-92ee-0da381ccaf0":  false,
		"79af4bc5-a995-4262-92ee-0da381ccaf0g": false,
		"":                                     false,
	}
	for s, want := range tests {
		if got := domain.ValidUUID(s); got != want {
			t.Errorf("ValidUUID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidEmail(t *testing.T) {
	tests := map[string]bool{
		"sudipta.bhaumik@innoflexion.com": true,
		"a@b":                             true,
		"Ana <ana@example.com>":           false,
		"ana@example.com ":                false,
		"ana":                             false,
		"":                                false,
		"@example.com":                    false,
	}
	for s, want := range tests {
		if got := domain.ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", s, got, want)
		}
	}
}
