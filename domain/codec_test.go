package domain_test

import (
	"reflect"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
)

type pinged struct {
	N int `json:"n"`
}

func (pinged) EventType() string { return "test.pinged" }

type foreign struct{}

func (foreign) EventType() string { return "test.foreign" }

func TestCodec(t *testing.T) {
	c := domain.NewCodec("test", domain.EventKindOf[pinged]())
	if got := c.Types(); !reflect.DeepEqual(got, []string{"test.pinged"}) {
		t.Errorf("Types() = %v", got)
	}
	b, err := c.Encode(pinged{N: 7})
	if err != nil || string(b) != `{"n":7}` {
		t.Fatalf("Encode = %s, %v; want {\"n\":7}", b, err)
	}
	e, err := c.Decode("test.pinged", []byte(`{"n":7,"later_field":true}`))
	if err != nil || e != (pinged{N: 7}) {
		t.Errorf("Decode = %#v, %v; want pinged{7} (unknown members ignored)", e, err)
	}
	if _, err := c.Encode(foreign{}); err == nil {
		t.Error("Encode(foreign event) succeeded, want an error")
	}
	if _, err := c.Decode("test.unknown", []byte(`{}`)); err == nil {
		t.Error("Decode(unknown type) succeeded, want an error")
	}
	if _, err := c.Decode("test.pinged", []byte(`{"n":"x"}`)); err == nil {
		t.Error("Decode(malformed) succeeded, want an error")
	}
}
