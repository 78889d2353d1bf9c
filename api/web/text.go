package web

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxJSONDepth bounds how deeply a JSON request body nests, on every
// surface: the body's own object is level 1, so free-form values inside it
// (custom fields, history values) nest a little less. Common JSON parsers
// give up on documents nested thousands deep, and stored values are served
// back on the feed, so the bound is checked before anything is stored.
const MaxJSONDepth = 64

// ValidText reports whether s is text every surface accepts in a request:
// valid UTF-8 without NUL. (Go strings cannot hold a surrogate code point
// as valid UTF-8, so an unpaired surrogate is refused too.)
func ValidText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// msgText is the rule ValidText checks, for error details.
const msgText = "must be UTF-8 text without NUL characters or unpaired surrogates"

// checkJSON checks body, which is valid JSON, for what every surface
// refuses beyond syntax: strings (member names included) that are not
// valid text (invalid UTF-8, \u0000, an unpaired surrogate escape), a
// member repeated within one object, and nesting deeper than
// MaxJSONDepth. It returns a *BodyError (BodyBadText, BodyDuplicate or
// BodyTooDeep) naming where, by the request's own member path
// ("custom.size", "tags[2]").
func checkJSON(body []byte) error {
	s := scanner{b: body}
	return s.value("", 0)
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// value checks the value at s.i, found at path, inside depth levels.
func (s *scanner) value(path string, depth int) error {
	s.space()
	if s.i >= len(s.b) {
		return nil
	}
	switch s.b[s.i] {
	case '{':
		if depth+1 > MaxJSONDepth {
			return &BodyError{Reason: BodyTooDeep, Field: path}
		}
		s.i++
		seen := map[string]bool{}
		for {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] == '}' {
				s.i++
				return nil
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			name, ok := s.str()
			if !ok {
				return &BodyError{Reason: BodyBadText, Field: path, InName: true}
			}
			at := name
			if path != "" {
				at = path + "." + name
			}
			if seen[name] {
				return &BodyError{Reason: BodyDuplicate, Field: at}
			}
			seen[name] = true
			s.space()
			s.i++ // ':'
			if err := s.value(at, depth+1); err != nil {
				return err
			}
		}
	case '[':
		if depth+1 > MaxJSONDepth {
			return &BodyError{Reason: BodyTooDeep, Field: path}
		}
		s.i++
		for n := 0; ; {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] == ']' {
				s.i++
				return nil
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if err := s.value(path+"["+strconv.Itoa(n)+"]", depth+1); err != nil {
				return err
			}
			n++
		}
	case '"':
		if _, ok := s.str(); !ok {
			return &BodyError{Reason: BodyBadText, Field: path}
		}
		return nil
	}
	for s.i < len(s.b) { // a number, true, false or null
		switch s.b[s.i] {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			return nil
		}
		s.i++
	}
	return nil
}

// str reads the string at s.i (its opening quote) and returns its value,
// and whether it is valid text. The value is exact only when ok.
func (s *scanner) str() (string, bool) {
	start := s.i
	s.i++
	ok, escaped := true, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			raw := s.b[start:s.i]
			if !ok {
				return "", false
			}
			if !escaped {
				return string(raw[1 : len(raw)-1]), true
			}
			var v string
			_ = json.Unmarshal(raw, &v)
			return v, true
		case c == '\\':
			escaped = true
			if s.i+1 < len(s.b) && s.b[s.i+1] == 'u' {
				r := s.hex(s.i + 2)
				switch {
				case r == 0:
					ok = false
				case r >= 0xD800 && r < 0xDC00: // a high surrogate: a low one must follow
					if s.i+11 < len(s.b) && s.b[s.i+6] == '\\' && s.b[s.i+7] == 'u' {
						if lo := s.hex(s.i + 8); lo >= 0xDC00 && lo < 0xE000 {
							s.i += 12
							continue
						}
					}
					ok = false
				case r >= 0xDC00 && r < 0xE000:
					ok = false
				}
				s.i += 6
				continue
			}
			s.i += 2
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				ok = false
			}
			s.i += n
		}
	}
	return "", false
}

// hex reads four hex digits at i (-1 if there are not four).
func (s *scanner) hex(i int) rune {
	if i+4 > len(s.b) {
		return -1
	}
	n, err := strconv.ParseUint(string(s.b[i:i+4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}

// CheckMediaType checks a JSON request's Content-Type: absent, or
// application/json or any type with the +json suffix (compared without
// regard to case, as media types are), with no charset but UTF-8. It
// returns nil or a 415 problem.
func CheckMediaType(contentType string) error {
	if strings.TrimSpace(contentType) == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") {
			return nil
		}
	}
	return NewProblem(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"send Content-Type: application/json (UTF-8, the only charset JSON has)")
}

// singleHeaders are the request headers that may appear once only: two
// credentials or keys would leave it to chance which one counts.
var singleHeaders = []string{"Authorization", "Idempotency-Key", "Eventdesk-Actor", "If-Match", "X-User-Data",
	"X-LSQ-ACCESS-KEY", "X-LSQ-SECRET-KEY", "Content-Type"}

// credentialHeaders are those of singleHeaders that carry credentials.
var credentialHeaders = []string{"Authorization", "X-LSQ-ACCESS-KEY", "X-LSQ-SECRET-KEY"}

// CheckRequest checks what every surface reads of a request before its
// body, before anything reaches a query: the path must be valid text
// (else 404: no such resource can exist), every query parameter and every
// header a surface reads (singleHeaders) too (else 422 naming it), and
// those headers must come once (a repeated credential is 401, any other
// repeated header 422). Surfaces render the problem in their own shape.
func CheckRequest(r *http.Request) error {
	if !ValidText(r.URL.Path) {
		return NewProblem(http.StatusNotFound, "not_found", "no such resource: the path is not valid UTF-8 text")
	}
	for name, vs := range r.URL.Query() {
		if !ValidText(name) {
			return Invalid(FieldError{Field: "query", Code: "invalid_text", Detail: "query parameter names " + msgText})
		}
		for _, v := range vs {
			if !ValidText(v) {
				return Invalid(FieldError{Field: name, Code: "invalid_text", Detail: name + " " + msgText})
			}
		}
	}
	for _, name := range singleHeaders {
		vs := r.Header.Values(name)
		if len(vs) > 1 {
			for _, c := range credentialHeaders {
				if strings.EqualFold(c, name) {
					return NewProblem(http.StatusUnauthorized, "unauthenticated", "send exactly one "+name+" header")
				}
			}
			return Invalid(FieldError{Field: name, Code: "repeated", Detail: fmt.Sprintf("send exactly one %s header", name)})
		}
		if len(vs) == 1 && !ValidText(vs[0]) {
			return Invalid(FieldError{Field: name, Code: "invalid_text", Detail: name + " " + msgText})
		}
	}
	return nil
}
