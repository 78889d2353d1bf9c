package listener_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
)

// FuzzListener drives a real webhook listener over real PostgreSQL with
// any delivery: the samples of seed 004 (valid and invalid, verbatim)
// and the hostile inputs of issue 14 §3 to start from. Every answer is a
// 200 with results or a precise 4xx in the listener's shape, never a 5xx
// or a panic, and a refused delivery records nothing (apitest.Env.Fuzz).
func FuzzListener(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "seed", "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed samples: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-contact","data":{"name":"a\u0000b"}}]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-note","data":{"content":"\ud800"}}]}`,
		`{"senderUser":"` + sender + `","senderUser":"b@x.com","data":[]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-deal","data":{"name":"a","closeDate":999999999999999}}]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-contact","data":{"name":"a","dateOfBirth":"999999999999999","phones":[{"value":"090000000!"}]}}]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-ticket","data":{"title":"t","cusFields":{"v":` + strings.Repeat("[", 60) + strings.Repeat("]", 60) + `}}}]}`,
		`{"senderUser":"` + sender + `","data":[1e400, null, "x", {}]}`,
		`{"senderUser":"nobody@x.com","data":[]}`, `[]`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	e := apitest.New(f)
	h := newHook(f, e, &e.A, map[string]any{"rate_limit": 60000}) // the limit is not under test
	f.Fuzz(func(t *testing.T, body []byte) {
		e.Fuzz(t, e.A.ID, "POST", h.path, body)
	})
}
