package fynd

import (
	"net/http"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
)

// FuzzParseUser checks the reader of Fynd's users (the X-User-Data header
// and created_by): any value is a user or a 400, never a panic or a 5xx;
// a user is a valid actor of kind user that names an id or an e-mail, in
// valid text.
func FuzzParseUser(f *testing.F) {
	for _, s := range []string{
		`"user-1"`, `{"_id": "u1", "first_name": "A", "last_name": "B", "emails": [{"email": "a@x.com", "primary": true}]}`,
		`{"id": "u", "user": {"email": "a@b.c", "name": "N"}}`, `{"user_id": 42}`, `{"_id": "u\u0000"}`, `{"_id": "\ud800"}`,
		`{"_id":`, `[1]`, `{"first_name":"x"}`, `{"_id": 5}`, `{"id":"a","id":"b"}`, "\"caf\xe9\"", `""`, `null`, ``,
		`{"user":{"user":{"user":{"email":"deep@x.com"}}}}`, `{"v":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := parseUser(HeaderUserData, raw)
		if err != nil {
			if c := web.Classify(err); c.Internal || c.Status != http.StatusBadRequest && c.Status != http.StatusUnprocessableEntity {
				t.Fatalf("parseUser(%q) = %v, classified %d (internal %v), want a 400", raw, err, c.Status, c.Internal)
			}
			return
		}
		if a.Kind != domain.ActorUser || a.ID == "" && a.Email == "" {
			t.Fatalf("parseUser(%q) = %+v, want a user with an id or an e-mail", raw, a)
		}
		if err := a.Validate("user"); err != nil {
			t.Fatalf("parseUser(%q) = %+v, which is not valid: %v", raw, a, err)
		}
		for _, s := range []string{a.ID, a.Name, a.Email} {
			if !web.ValidText(s) {
				t.Fatalf("parseUser(%q) = %+v, holding text that is not valid", raw, a)
			}
		}
	})
}
