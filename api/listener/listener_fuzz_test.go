package listener_test

import (
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/listener"
)

// FuzzListener drives a real webhook listener over real PostgreSQL with
// any delivery: the samples of seed 004 (valid and invalid, verbatim)
// and the hostile inputs of issue 14 §3 to start from. Every answer is a
// 200 with results or a precise 4xx in the listener's shape, never a 5xx
// or a panic, and a refused delivery records nothing (apitest.Env.Fuzz).
func FuzzListener(f *testing.F) {
	listener.AddSeeds(f)
	e := apitest.New(f)
	h := newHook(f, e, &e.A, map[string]any{"rate_limit": 60000}) // the limit is not under test
	f.Fuzz(func(t *testing.T, body []byte) {
		e.Fuzz(t, e.A.ID, "POST", h.path, body)
	})
}
