package catalog_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/catalog"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// TestEvents_KnowsEveryCodec fails when a domain package builds a codec
// that the catalog does not hold: its events would be appended without a
// schema version and shown by the feed without upcasting.
func TestEvents_KnowsEveryCodec(t *testing.T) {
	newCodec := regexp.MustCompile(`domain\.NewCodec\("([^"]+)"`)
	files, err := filepath.Glob("../*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range newCodec.FindAllSubmatch(b, -1) {
			declared = append(declared, string(m[1]))
		}
	}
	var held []string
	for _, c := range catalog.Events().Codecs() {
		held = append(held, c.Package())
	}
	slices.Sort(declared)
	slices.Sort(held)
	if len(declared) == 0 || !slices.Equal(held, declared) {
		t.Errorf("catalog holds codecs %q, domain packages declare %q", held, declared)
	}
}

func TestVersion(t *testing.T) {
	for _, typ := range []string{"ticket.created", "ticket_config.statuses_set", "form.created", "form_index.added", "video_room.opened", "tenant.created", "agent.created", "group.created"} {
		if v, ok := catalog.Version(typ); !ok || v != 1 {
			t.Errorf("Version(%s) = %d, %t; want 1, true", typ, v, ok)
		}
	}
	if v, ok := catalog.Version("webhook.received"); ok {
		t.Errorf("Version(unknown) = %d, true; want false", v)
	}
}

func TestUpcast(t *testing.T) {
	up := domain.UpcastMembers(func(m map[string]json.RawMessage) error {
		m["note"] = json.RawMessage(`"upcast"`)
		return nil
	})
	v2 := catalog.New(ticket.Codec().With(domain.EventKindOf[ticket.TicketTagged](up)))
	tests := []struct {
		name      string
		c         *catalog.Catalog
		typ       string
		version   int
		data      string
		wantV     int
		wantData  string
		wantErr   error
		wantAnErr bool
	}{
		{"current type passes unchanged", catalog.Events(), "ticket.tagged", 1, `{"tags": ["a"]}`, 1, `{"tags": ["a"]}`, nil, false},
		{"absent version means 1", catalog.Events(), "form_index.added", 0, `{"slug":"x"}`, 1, `{"slug":"x"}`, nil, false},
		{"unknown type passes unchanged", catalog.Events(), "webhook.received", 0, `{"any":1}`, 0, `{"any":1}`, nil, false},
		{"unknown type keeps its version", catalog.Events(), "webhook.received", 7, `not json`, 7, `not json`, nil, false},
		{"too new", catalog.Events(), "ticket.tagged", 2, `{"tags":["a"]}`, 0, "", domain.ErrUnknownSchemaVersion, true},
		{"v1 upcast to v2", v2, "ticket.tagged", 1, `{"tags":["a"]}`, 2, `{"note":"upcast","tags":["a"]}`, nil, false},
		{"malformed v1", v2, "ticket.tagged", 1, `{"tags":`, 0, "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, data, err := tt.c.Upcast(tt.typ, tt.version, json.RawMessage(tt.data))
			if tt.wantAnErr {
				if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("Upcast() = %d, %s, %v; want error %v", v, data, err, tt.wantErr)
				}
				return
			}
			if err != nil || v != tt.wantV || string(data) != tt.wantData {
				t.Errorf("Upcast() = %d, %s, %v; want %d, %s", v, data, err, tt.wantV, tt.wantData)
			}
		})
	}
	// The package function is the catalog of every event type.
	if v, data, err := catalog.Upcast("ticket.tagged", 1, json.RawMessage(`{"tags":["a"]}`)); err != nil || v != 1 || string(data) != `{"tags":["a"]}` {
		t.Errorf("catalog.Upcast() = %d, %s, %v; want 1, unchanged", v, data, err)
	}
}

func TestNew_DuplicateTypePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New with two codecs of one type did not panic")
		}
	}()
	catalog.New(ticket.Codec(), ticket.Codec())
}
