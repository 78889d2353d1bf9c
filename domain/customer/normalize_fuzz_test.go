package customer_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
)

// FuzzNormalize checks a customer profile's normalisation, the step every
// contact passes (native, listener, vendors): any profile is normalised
// or refused with an Invalid domain error, never a panic; a normalised
// profile normalises to itself; its identities are stable.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		`{"name":"Huy","last_name":"Nguyen","passport":" b 123 ","gender":1,"date_of_birth":"Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)",
		  "emails":[{"type":"work","value":"Huy@Example.com"},{"value":"huy@example.com"}],
		  "phones":[{"type":"mobile","value":"+84 905 000 001"},{"value":"0905000001","normalized":"+84905000001"}],
		  "addresses":[{"type":"home","street":"1 Main St","city":"Hanoi"}],"websites":["a.com","a.com"],
		  "ims":[{"protocol":"skype","value":"huy"}],"tags":["vip"," vip "],"custom":{"size":"L","n":1},
		  "contact_id":"42","permit":{"kind":"owner"},"owner":"27e8259d-0681-4adb-b5e8-14f66a208dd4","channel":"Web"}`,
		`{"name":""}`, `{"name":"a\u0000"}`, `{"name":"x","phones":[{"value":"abc"}]}`, `{"name":"x","gender":7}`,
		`{"name":"x","date_of_birth":"2019-02-30"}`, `{"name":"x","date_of_birth":"999999999999999"}`,
		`{"name":"x","emails":[{"value":"not an email"}]}`, `{"name":"x","account_id":"nope"}`,
		`{"name":"x","permit":{"kind":"group","groups":["g"]}}`, `{"name":" \t "}`, `{"name":"\u00e9\u0301"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var p customer.Profile
		if json.Unmarshal(doc, &p) != nil {
			return
		}
		n, err := customer.Normalize(p)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Kind != domain.Invalid {
				t.Fatalf("Normalize() = %T %v, want an Invalid domain error", err, err)
			}
			return
		}
		again, err := customer.Normalize(n)
		if err != nil {
			t.Fatalf("Normalize(Normalize(p)) = %v; Normalize(p) = %+v", err, n)
		}
		if diff := cmp.Diff(n, again); diff != "" {
			t.Fatalf("Normalize is not idempotent (-once +twice):\n%s", diff)
		}
		if diff := cmp.Diff(n.Identities(), again.Identities()); diff != "" {
			t.Fatalf("identities changed (-once +twice):\n%s", diff)
		}
	})
}
