package tenant_test

import (
	"errors"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/tenant"
)

func TestCodec(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	e := tenant.TenantCreated{Name: "Acme", At: at}
	b, err := tenant.Encode(e)
	// The stored shape of version 1; changing it needs a new version.
	if want := `{"name":"Acme","at":"2026-11-23T09:30:00Z"}`; err != nil || string(b) != want {
		t.Fatalf("Encode() = %s, %v; want %s", b, err, want)
	}
	if got := tenant.Codec().Version(e.EventType()); got != 1 {
		t.Errorf("Version(%s) = %d, want 1", e.EventType(), got)
	}
	for _, v := range []int{0, 1} {
		got, err := tenant.Decode("tenant.created", v, b)
		if err != nil || got != e {
			t.Errorf("Decode(v%d) = %#v, %v; want %#v", v, got, err, e)
		}
	}
	if _, err := tenant.Decode("tenant.created", 2, b); !errors.Is(err, domain.ErrUnknownSchemaVersion) {
		t.Errorf("Decode(v2) = %v, want ErrUnknownSchemaVersion", err)
	}
	if got, want := tenant.EventTypes(), []string{"tenant.created"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("EventTypes() = %v, want %v", got, want)
	}
}
