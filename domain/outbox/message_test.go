package outbox_test

import (
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/outbox"
)

const id = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"

var (
	t0     = domaintest.T0
	noon   = domaintest.Noon
	by     = domaintest.Agent
	sys    = domain.Actor{Kind: domain.ActorSystem, ID: "outbox-sender"}
	api    = domain.SourceAPI
	policy = outbox.Policy{MaxAttempts: 3, Base: time.Second, Cap: 4 * time.Second}

	atRequest = domain.Change{By: by, Source: api, At: t0}
	atNoon    = domain.Change{By: sys, Source: api, At: noon}

	requested = outbox.MessageRequested{Change: atRequest, ID: id, Channel: outbox.Email, To: "ana@example.com",
		Subject: "Welcome", Body: "Hello Ana", CustomerID: "PID-1"}
	smsRequested = outbox.MessageRequested{Change: atRequest, ID: id, Channel: outbox.SMS, To: "+14155550100", Body: "Hi", Trial: true}
	failed1      = outbox.AttemptFailed{Change: atNoon, Attempt: 1, Error: "refused", NextAttemptAt: noon.Add(time.Second)}
	failed2      = outbox.AttemptFailed{Change: atNoon, Attempt: 2, Error: "refused", NextAttemptAt: noon.Add(2 * time.Second)}
	failed3      = outbox.AttemptFailed{Change: atNoon, Attempt: 3, Error: "refused"}
	dead         = outbox.MessageDeadLettered{Change: atNoon, Attempts: 3, Error: "refused"}
	retried      = outbox.MessageRetried{Change: domain.Change{By: by, Source: api, At: noon}}
	sent         = outbox.MessageSent{Change: atNoon, Attempt: 1, ProviderID: id + "@x"}
)

type scenario domaintest.Scenario[*outbox.Message]

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		r       outbox.Request
		want    []domain.Event
		wantErr error
	}{
		{"email", outbox.Request{By: by, Source: api, ID: id, Channel: outbox.Email, To: " ana@example.com ", Subject: "Welcome",
			Body: "Hello Ana", CustomerID: "PID-1"}, []domain.Event{requested}, nil},
		{"trial sms", outbox.Request{By: by, Source: api, ID: id, Channel: outbox.SMS, To: "+14155550100", Body: "Hi", Trial: true},
			[]domain.Event{smsRequested}, nil},
		{"bad id", outbox.Request{By: by, Source: api, ID: "x", Channel: outbox.Email, To: "a@b.c", Subject: "s", Body: "b"}, nil,
			outbox.ErrInvalidField.At("id")},
		{"bad address", outbox.Request{By: by, Source: api, ID: id, Channel: outbox.Email, To: "ana", Subject: "s", Body: "b"}, nil,
			outbox.ErrInvalidField.At("to")},
		{"subject with a newline", outbox.Request{By: by, Source: api, ID: id, Channel: outbox.Email, To: "a@b.c", Subject: "s\r\nBcc: x", Body: "b"}, nil,
			outbox.ErrInvalidField.At("subject")},
		{"bad phone", outbox.Request{By: by, Source: api, ID: id, Channel: outbox.SMS, To: "call me", Body: "b"}, nil,
			outbox.ErrInvalidField.At("to")},
		{"sms with subject", outbox.Request{By: by, Source: api, ID: id, Channel: outbox.SMS, To: "+1415", Subject: "s", Body: "b"}, nil,
			outbox.ErrInvalidField.At("subject")},
		{"trial email", outbox.Request{By: by, Source: api, ID: id, Channel: outbox.Email, To: "a@b.c", Subject: "s", Body: "b", Trial: true}, nil,
			outbox.ErrInvalidField.At("trial")},
		{"no body", outbox.Request{By: by, Source: api, ID: id, Channel: outbox.SMS, To: "+1415", Body: " "}, nil,
			outbox.ErrInvalidField.At("body")},
		{"unknown channel", outbox.Request{By: by, Source: api, ID: id, Channel: "fax", To: "+1415", Body: "b"}, nil,
			outbox.ErrInvalidField.At("channel")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := outbox.New(tt.r, t0)
			domaintest.CheckErr(t, err, tt.wantErr)
			if err == nil {
				domaintest.CheckEvents(t, m.Pending(), tt.want)
			}
		})
	}
}

func TestMessage_Commands(t *testing.T) {
	mark := func(n int) func(*outbox.Message) error {
		return func(m *outbox.Message) error { return m.MarkSent(n, id+"@x", sys, api, noon) }
	}
	fail := func(n int, permanent bool) func(*outbox.Message) error {
		return func(m *outbox.Message) error { return m.Fail(n, "refused", permanent, policy, sys, api, noon) }
	}
	retry := func(m *outbox.Message) error { return m.Retry(by, api, noon) }
	tests := []scenario{
		{"request twice", []domain.Event{requested}, func(m *outbox.Message) error {
			return m.Request(outbox.Request{By: by, Source: api, ID: id, Channel: outbox.Email, To: "a@b.c", Subject: "s", Body: "b"}, noon)
		}, nil, outbox.ErrAlreadyExists},
		{"sent", []domain.Event{requested}, mark(1), []domain.Event{sent}, nil},
		{"sent again (redelivered)", []domain.Event{requested, sent}, mark(1), nil, nil},
		{"stale attempt", []domain.Event{requested, failed1}, mark(1), nil, nil},
		{"first failure backs off 1 s", []domain.Event{requested}, fail(1, false), []domain.Event{failed1}, nil},
		{"second failure backs off 2 s", []domain.Event{requested, failed1}, fail(2, false), []domain.Event{failed2}, nil},
		{"last failure dead-letters", []domain.Event{requested, failed1, failed2}, fail(3, false), []domain.Event{failed3, dead}, nil},
		{"permanent failure dead-letters", []domain.Event{requested}, fail(1, true),
			[]domain.Event{outbox.AttemptFailed{Change: atNoon, Attempt: 1, Error: "refused"},
				outbox.MessageDeadLettered{Change: atNoon, Attempts: 1, Error: "refused"}}, nil},
		{"failure of a sent message", []domain.Event{requested, sent}, fail(2, false), nil, nil},
		{"retry a dead one", []domain.Event{requested, failed1, failed2, failed3, dead}, retry, []domain.Event{retried}, nil},
		{"retry restarts the count, not the numbering", []domain.Event{requested, failed1, failed2, failed3, dead, retried}, fail(4, false),
			[]domain.Event{outbox.AttemptFailed{Change: atNoon, Attempt: 4, Error: "refused", NextAttemptAt: noon.Add(time.Second)}}, nil},
		{"retry a failed one", []domain.Event{requested, failed1}, retry, []domain.Event{retried}, nil},
		{"retry a pending one", []domain.Event{requested}, retry, nil, outbox.ErrNotRetryable},
		{"retry a sent one", []domain.Event{requested, sent}, retry, nil, outbox.ErrNotRetryable},
		{"retry nothing", nil, retry, nil, outbox.ErrNotFound},
		{"send nothing", nil, mark(1), nil, outbox.ErrNotFound},
	}
	domaintest.Run(t, tests, outbox.Codec(), outbox.Rehydrate, outbox.Evolve)
}

func TestMessage_Due(t *testing.T) {
	m := outbox.Rehydrate([]domain.Event{requested}, 1)
	if !m.Due(t0) || m.NextAttempt() != 1 {
		t.Fatalf("requested: Due = %v, NextAttempt = %d, want true, 1", m.Due(t0), m.NextAttempt())
	}
	m = outbox.Rehydrate([]domain.Event{requested, failed1}, 2)
	if m.Due(noon) || !m.Due(noon.Add(time.Second)) || m.NextAttempt() != 2 {
		t.Fatalf("failed: Due(noon) = %v, Due(noon+1s) = %v, NextAttempt = %d; want false, true, 2", m.Due(noon), m.Due(noon.Add(time.Second)), m.NextAttempt())
	}
	for _, h := range [][]domain.Event{{requested, sent}, {requested, failed1, failed2, failed3, dead}} {
		if m := outbox.Rehydrate(h, int64(len(h))); m.Due(noon.Add(time.Hour)) {
			t.Errorf("%T last: Due = true, want false", h[len(h)-1])
		}
	}
}

func TestPolicy_Backoff(t *testing.T) {
	p := outbox.DefaultPolicy
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 8: 128 * time.Second, 13: time.Hour, 40: time.Hour} {
		if got := p.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	domaintest.CodecRoundTrip(t, []domain.Event{requested, failed1, sent, dead, retried}, outbox.Codec())
}

// TestCodec_Persisted pins the stored form of an event.
func TestCodec_Persisted(t *testing.T) {
	b, err := outbox.Encode(failed1)
	want := `{"by":{"id":"outbox-sender","kind":"system"},"source":"api","at":"2025-03-01T12:00:00Z","attempt":1,"error":"refused","next_attempt_at":"2025-03-01T12:00:01Z"}`
	if err != nil || string(b) != want {
		t.Fatalf("Encode() = %s, %v; want %s", b, err, want)
	}
}
