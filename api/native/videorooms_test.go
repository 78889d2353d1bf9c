package native_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/api/app"
)

// participants returns the identities and statuses of a participants list.
func participants(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, p := range v.([]any) {
		m := p.(map[string]any)
		out = append(out, m["identity"].(string)+":"+m["status"].(string))
	}
	return out
}

func TestVideoRoomLifecycle(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "Show me the damage"})["id"].(string)

	opened := e.do(e.a, "POST", "/v1/tickets/"+id+"/video-room", nil).want(t, http.StatusCreated)
	room := opened.json(t)
	name := room["unique_name"].(string)
	if name != id || room["ticket_id"] != id || room["status"] != "open" || len(room["participants"].([]any)) != 0 {
		t.Errorf("opened room = %v, want unique_name and ticket_id %s, open, no participants", room, id)
	}
	if opened.Header.Get("Eventdesk-Position") == "" || opened.Header.Get("Location") != "/v1/video-rooms/"+name {
		t.Errorf("headers = %v, want Eventdesk-Position and Location /v1/video-rooms/%s", opened.Header, name)
	}
	// A ticket has one room: opening it again (here by number) answers it, 200.
	again := e.do(e.a, "POST", "/v1/tickets/1/video-room", nil).want(t, http.StatusOK).json(t)
	if again["unique_name"] != name || again["version"] != room["version"] {
		t.Errorf("second open = %v, want the same room unchanged", again)
	}
	if got := e.do(e.a, "GET", "/v1/video-rooms/"+name, nil).want(t, http.StatusOK).json(t); !cmp.Equal(got, room) {
		t.Errorf("GET room (-opened +got):\n%s", cmp.Diff(room, got))
	}

	// An access token names room and identity and verifies with the tenant's secret.
	before := time.Now().Add(-time.Second)
	tokRes := e.do(e.a, "POST", "/v1/video-rooms/"+name+"/token", map[string]any{"identity": "ana@example.com"}).want(t, http.StatusCreated)
	tok := tokRes.json(t)
	if tok["identity"] != "ana@example.com" || tok["room"] != name || tokRes.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token = %v (headers %v), want identity, room and Cache-Control: no-store", tok, tokRes.Header)
	}
	claims, err := e.Rooms.VerifyToken(context.Background(), e.A.ID, tok["access_token"].(string))
	if err != nil {
		t.Fatalf("VerifyToken() = %v", err)
	}
	if claims.Room != name || claims.Subject != "ana@example.com" || claims.Tenant != e.A.ID {
		t.Errorf("claims = %+v, want room %s, subject ana@example.com, tenant A", claims, name)
	}
	exp, err := time.Parse(time.RFC3339, tok["expires_at"].(string))
	if err != nil || !exp.Equal(claims.ExpiresAt.Time) || exp.Before(before.Add(app.TokenTTL)) || exp.After(time.Now().Add(app.TokenTTL)) {
		t.Errorf("expires_at = %v (%v), want the token's exp, %v from now", tok["expires_at"], err, app.TokenTTL)
	}
	if _, err := e.Rooms.VerifyToken(context.Background(), e.B.ID, tok["access_token"].(string)); err == nil {
		t.Error("tenant B's secret verifies tenant A's token")
	}

	// Participants join: as a given user, or as the caller.
	joined := e.do(e.a, "POST", "/v1/video-rooms/"+name+"/participants", map[string]any{
		"identity": "ana@example.com", "user": map[string]any{"kind": "agent", "email": "ana@example.com", "name": "Ana"},
	}).want(t, http.StatusCreated)
	if joined.Header.Get("Eventdesk-Position") == "" {
		t.Errorf("join headers = %v, want Eventdesk-Position", joined.Header)
	}
	ps := joined.json(t)["participants"].([]any)
	if len(ps) != 1 {
		t.Fatalf("participants after join = %v, want ana", ps)
	}
	ana := ps[0].(map[string]any)
	if ana["identity"] != "ana@example.com" || ana["status"] != "connected" || ana["joined_at"] == nil ||
		!cmp.Equal(ana["user"], map[string]any{"kind": "agent", "email": "ana@example.com", "name": "Ana"}) {
		t.Errorf("participant = %v, want ana, connected, the agent, joined_at", ana)
	}
	// Joining again changes nothing: 200.
	re := e.do(e.a, "POST", "/v1/video-rooms/"+name+"/participants", map[string]any{"identity": "ana@example.com"}).want(t, http.StatusOK)
	if got := participants(t, re.json(t)["participants"]); !cmp.Equal(got, []string{"ana@example.com:connected"}) {
		t.Errorf("participants after joining twice = %v", got)
	}
	e.do(e.a, "POST", "/v1/video-rooms/"+name+"/participants", map[string]any{"identity": "customer 42"}).want(t, http.StatusCreated)
	cu := e.do(e.a, "POST", "/v1/video-rooms/"+name+"/participants", map[string]any{"identity": "user-7"}, "Eventdesk-Actor", "user:7").
		want(t, http.StatusCreated).json(t)["participants"].([]any)
	wantUsers := []any{
		map[string]any{"kind": "agent", "email": "ana@example.com", "name": "Ana"},
		map[string]any{"kind": "integration", "id": "api_key"},
		map[string]any{"kind": "user", "id": "7"},
	}
	var users []any
	for _, p := range cu {
		users = append(users, p.(map[string]any)["user"])
	}
	if diff := cmp.Diff(wantUsers, users); diff != "" {
		t.Errorf("participants' users (-want +got):\n%s", diff)
	}
	list := e.do(e.a, "GET", "/v1/video-rooms/"+name+"/participants", nil).want(t, http.StatusOK).json(t)
	if got := participants(t, list["participants"]); !cmp.Equal(got, []string{"ana@example.com:connected", "customer 42:connected", "user-7:connected"}) {
		t.Errorf("GET participants = %v", got)
	}

	// Leaving: 200 with who is left; the identity in the path is escaped.
	left := e.do(e.a, "DELETE", "/v1/video-rooms/"+name+"/participants/customer%2042", nil).want(t, http.StatusOK)
	if got := participants(t, left.json(t)["participants"]); !cmp.Equal(got, []string{"ana@example.com:connected", "user-7:connected"}) ||
		left.Header.Get("Eventdesk-Position") == "" {
		t.Errorf("participants after leaving = %v (headers %v)", got, left.Header)
	}
	e.do(e.a, "DELETE", "/v1/video-rooms/"+name+"/participants/customer%2042", nil).problem(t, http.StatusNotFound, "participant_not_found")
	e.do(e.a, "DELETE", "/v1/video-rooms/"+name+"/participants/nobody", nil).problem(t, http.StatusNotFound, "participant_not_found")
	// The room keeps who left, disconnected; the participants list shows only who is connected.
	r := e.do(e.a, "GET", "/v1/video-rooms/"+name, nil).want(t, http.StatusOK).json(t)
	if got := participants(t, r["participants"]); !cmp.Equal(got, []string{"ana@example.com:connected", "customer 42:disconnected", "user-7:connected"}) {
		t.Errorf("room participants = %v", got)
	}
	if p := r["participants"].([]any)[1].(map[string]any); p["left_at"] == nil {
		t.Errorf("a participant who left has no left_at: %v", p)
	}

	// Closing disconnects everyone; a closed room takes no tokens, joins or leaves.
	closed := e.do(e.a, "POST", "/v1/video-rooms/"+name+"/close", nil).want(t, http.StatusOK)
	c := closed.json(t)
	if c["status"] != "closed" || c["closed_at"] == nil || closed.Header.Get("Eventdesk-Position") == "" {
		t.Errorf("closed room = %v (headers %v), want closed, closed_at, a position", c, closed.Header)
	}
	if got := participants(t, c["participants"]); !cmp.Equal(got, []string{"ana@example.com:disconnected", "customer 42:disconnected", "user-7:disconnected"}) {
		t.Errorf("participants after close = %v", got)
	}
	if got := e.do(e.a, "GET", "/v1/video-rooms/"+name+"/participants", nil).want(t, http.StatusOK).json(t)["participants"].([]any); len(got) != 0 {
		t.Errorf("GET participants of a closed room = %v, want none", got)
	}
	e.do(e.a, "POST", "/v1/video-rooms/"+name+"/close", nil).problem(t, http.StatusConflict, "video_room_already_closed")
	e.do(e.a, "POST", "/v1/video-rooms/"+name+"/token", map[string]any{"identity": "ana@example.com"}).problem(t, http.StatusConflict, "video_room_closed")
	e.do(e.a, "POST", "/v1/video-rooms/"+name+"/participants", map[string]any{"identity": "ana@example.com"}).problem(t, http.StatusConflict, "video_room_closed")
	e.do(e.a, "DELETE", "/v1/video-rooms/"+name+"/participants/ana@example.com", nil).problem(t, http.StatusConflict, "video_room_closed")

	// Opening the ticket's room again starts a new session: 201, nobody in it.
	reopened := e.do(e.a, "POST", "/v1/tickets/"+id+"/video-room", map[string]any{}).want(t, http.StatusCreated)
	ro := reopened.json(t)
	if ro["status"] != "open" || len(ro["participants"].([]any)) != 0 || ro["closed_at"] != nil {
		t.Errorf("reopened room = %v, want open, no participants, no closed_at", ro)
	}

	// Every change is an event of the room's stream.
	evs := e.events(e.a, "stream_type=video_room", reopened.Header.Get("Eventdesk-Position"))
	var types []string
	for _, ev := range evs {
		m := ev.(map[string]any)
		types = append(types, m["type"].(string))
		if m["stream_id"] != name || m["metadata"].(map[string]any)["source"] != "api" {
			t.Errorf("event %v: want stream %s, source api", m, name)
		}
	}
	want := []string{"video_room.opened", "video_room.participant_joined", "video_room.participant_joined",
		"video_room.participant_joined", "video_room.participant_left", "video_room.closed", "video_room.opened"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("video_room events (-want +got):\n%s", diff)
	}
	if md := evs[3].(map[string]any)["metadata"].(map[string]any); md["actor"] != "user:7" {
		t.Errorf("join by Eventdesk-Actor user:7 has metadata %v", md)
	}
}

func TestVideoRoomBadInput(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "x"})["id"].(string)
	e.do(e.a, "POST", "/v1/tickets/"+id+"/video-room", nil).want(t, http.StatusCreated)
	room := "/v1/video-rooms/" + id
	const unknown = "/v1/video-rooms/7a0c4f4e-0000-4000-8000-000000000000"
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code                     string
		fields                   []string
	}{
		{"open: unknown ticket", "POST", "/v1/tickets/7a0c4f4e-0000-4000-8000-000000000000/video-room", "", nil, 404, "ticket_not_found", nil},
		{"open: unknown number", "POST", "/v1/tickets/99/video-room", "", nil, 404, "ticket_not_found", nil},
		{"open: unknown member", "POST", "/v1/tickets/" + id + "/video-room", `{"unique_name": "mine"}`, nil, 400, "unknown_field", []string{"unique_name"}},
		{"open: malformed body", "POST", "/v1/tickets/" + id + "/video-room", `{`, nil, 400, "malformed_json", nil},
		{"open: bad actor header", "POST", "/v1/tickets/" + id + "/video-room", "", []string{"Eventdesk-Actor", "robot"}, 422, "validation_failed", []string{"Eventdesk-Actor"}},
		{"get: unknown room", "GET", unknown, "", nil, 404, "video_room_not_found", nil},
		{"get: garbage name", "GET", "/v1/video-rooms/..%2F..%2Fetc", "", nil, 404, "video_room_not_found", nil},
		{"token: unknown room", "POST", unknown + "/token", `{"identity": "ana"}`, nil, 404, "video_room_not_found", nil},
		{"token: malformed JSON", "POST", room + "/token", `{"identity": "ana"`, nil, 400, "malformed_json", nil},
		{"token: unknown member", "POST", room + "/token", `{"identity": "ana", "ttl": 60}`, nil, 400, "unknown_field", []string{"ttl"}},
		{"token: wrong type", "POST", room + "/token", `{"identity": 42}`, nil, 422, "validation_failed", []string{"identity"}},
		{"token: no identity", "POST", room + "/token", `{}`, nil, 422, "validation_failed", []string{"identity"}},
		{"token: identity with a control character", "POST", room + "/token", `{"identity": "a\u0007b"}`, nil, 422, "validation_failed", []string{"identity"}},
		{"join: unknown room", "POST", unknown + "/participants", `{"identity": "ana"}`, nil, 404, "video_room_not_found", nil},
		{"join: every bad field", "POST", room + "/participants", `{"identity": " ana ", "user": {"kind": "robot", "id": "r2"}}`, nil, 422, "validation_failed", []string{"identity", "user"}},
		{"join: wrong types", "POST", room + "/participants", `{"identity": ["ana"], "user": "ana"}`, nil, 422, "validation_failed", []string{"identity", "user"}},
		{"join: unknown user member", "POST", room + "/participants", `{"identity": "ana", "user": {"kind": "agent", "id": "a", "role": "boss"}}`, nil, 400, "unknown_field", []string{"user.role"}},
		{"join: not JSON", "POST", room + "/participants", `identity=ana`, nil, 400, "malformed_json", nil},
		{"leave: unknown room", "DELETE", unknown + "/participants/ana", "", nil, 404, "video_room_not_found", nil},
		{"participants: unknown room", "GET", unknown + "/participants", "", nil, 404, "video_room_not_found", nil},
		{"close: unknown room", "POST", unknown + "/close", "", nil, 404, "video_room_not_found", nil},
		{"close: unknown member", "POST", room + "/close", `{"reason": "done"}`, nil, 400, "unknown_field", []string{"reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			p := e.do(e.a, tt.method, tt.path, body, tt.headers...).problem(t, tt.status, tt.code)
			if tt.fields != nil && !sameSet(fields(p), tt.fields) {
				t.Errorf("fields = %v, want %v (problem %v)", fields(p), tt.fields, p)
			}
		})
	}
	// Nothing changed the room.
	if got := e.do(e.a, "GET", room, nil).want(t, http.StatusOK).json(t); got["version"] != float64(1) || got["status"] != "open" {
		t.Errorf("room = %v after bad requests, want version 1, open", got)
	}
	for _, path := range []string{room, room + "/participants"} {
		e.do(nil, "GET", path, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	}
	e.do(nil, "POST", room+"/token", map[string]any{"identity": "ana"}).problem(t, http.StatusUnauthorized, "unauthenticated")
	e.do(nil, "POST", "/v1/tickets/"+id+"/video-room", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
}

func TestVideoRoomTenantIsolation(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "A's call"})["id"].(string)
	e.do(e.a, "POST", "/v1/tickets/"+id+"/video-room", nil).want(t, http.StatusCreated)
	e.do(e.a, "POST", "/v1/video-rooms/"+id+"/participants", map[string]any{"identity": "ana"}).want(t, http.StatusCreated)
	room := "/v1/video-rooms/" + id

	e.do(e.b, "POST", "/v1/tickets/"+id+"/video-room", nil).problem(t, http.StatusNotFound, "ticket_not_found")
	e.do(e.b, "GET", room, nil).problem(t, http.StatusNotFound, "video_room_not_found")
	e.do(e.b, "GET", room+"/participants", nil).problem(t, http.StatusNotFound, "video_room_not_found")
	e.do(e.b, "POST", room+"/token", map[string]any{"identity": "mallory"}).problem(t, http.StatusNotFound, "video_room_not_found")
	e.do(e.b, "POST", room+"/participants", map[string]any{"identity": "mallory"}).problem(t, http.StatusNotFound, "video_room_not_found")
	e.do(e.b, "DELETE", room+"/participants/ana", nil).problem(t, http.StatusNotFound, "video_room_not_found")
	e.do(e.b, "POST", room+"/close", nil).problem(t, http.StatusNotFound, "video_room_not_found")

	got := e.do(e.a, "GET", room, nil).want(t, http.StatusOK).json(t)
	if got["status"] != "open" || !cmp.Equal(participants(t, got["participants"]), []string{"ana:connected"}) {
		t.Errorf("A's room = %v after B's attempts, want open with ana", got)
	}
	// B's own ticket number 1 is another ticket with another room.
	bid := e.createTicket(e.b, map[string]any{"title": "B's call"})["id"].(string)
	mine := e.do(e.b, "POST", "/v1/tickets/1/video-room", nil).want(t, http.StatusCreated)
	if mine.json(t)["unique_name"] != bid {
		t.Errorf("B's room is not B's ticket's")
	}
	for _, ev := range e.events(e.b, "stream_type=video_room", mine.Header.Get("Eventdesk-Position")) {
		if m := ev.(map[string]any); m["stream_id"] == id {
			t.Errorf("B's feed shows A's room: %v", m)
		}
	}
}

func TestVideoRoomIdempotency(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "x"})["id"].(string)
	e.do(e.a, "POST", "/v1/tickets/"+id+"/video-room", nil).want(t, http.StatusCreated)
	join := map[string]any{"identity": "ana"}
	first := e.do(e.a, "POST", "/v1/video-rooms/"+id+"/participants", join, "Idempotency-Key", "j1").want(t, http.StatusCreated)
	again := e.do(e.a, "POST", "/v1/video-rooms/"+id+"/participants", join, "Idempotency-Key", "j1").want(t, http.StatusCreated)
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("Eventdesk-Position") != first.Header.Get("Eventdesk-Position") {
		t.Errorf("replay differs: %s vs %s (headers %v)", first.Body, again.Body, again.Header)
	}
	left := e.do(e.a, "DELETE", "/v1/video-rooms/"+id+"/participants/ana", nil, "Idempotency-Key", "l1").want(t, http.StatusOK)
	// A retried leave gets the first answer, not 404.
	e.do(e.a, "DELETE", "/v1/video-rooms/"+id+"/participants/ana", nil, "Idempotency-Key", "l1").want(t, http.StatusOK)
	if n := countEvents(e, e.a, "video_room.participant_joined", left.Header.Get("Eventdesk-Position")); n != 1 {
		t.Errorf("%d joins recorded, want 1", n)
	}
}
