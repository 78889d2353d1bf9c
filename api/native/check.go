package native

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/eventstore"
)

// fieldCheck collects validation problems of one request.
type fieldCheck struct{ errs []web.FieldError }

func (c *fieldCheck) add(field, code, format string, args ...any) {
	c.errs = append(c.errs, web.FieldError{Field: field, Code: code, Detail: fmt.Sprintf(format, args...)})
}

// required notes a missing or empty required string.
func (c *fieldCheck) required(field, value string) {
	if strings.TrimSpace(value) == "" {
		c.add(field, "required", "%s is required", field)
	}
}

// oneOf notes a value outside allowed (empty values pass).
func (c *fieldCheck) oneOf(field, value string, allowed []string) {
	if value != "" && !slices.Contains(allowed, value) {
		c.add(field, "not_allowed", "%s %q is not allowed; allowed values: %s", field, value, strings.Join(allowed, ", "))
	}
}

// flag reads a boolean query parameter: absent, empty or "false" is
// false, "true" is true, anything else is noted ("maybe" is not false).
func (c *fieldCheck) flag(q url.Values, name string) bool {
	switch q.Get(name) {
	case "", "false":
		return false
	case "true":
		return true
	}
	c.add(name, "invalid", "%s must be true or false", name)
	return false
}

func (c *fieldCheck) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return web.Invalid(c.errs...)
}

// names lists enum values as strings, for "allowed values" messages.
func names[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// multi returns the values of query parameter name, each split on commas,
// trimmed, empty ones dropped: ?tag=a,b&tag=c is [a b c].
func multi(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// parseMinPosition reads min_position, a position from Eventdesk-Position
// (zero when absent).
func parseMinPosition(c *fieldCheck, v string) eventstore.Position {
	if v == "" {
		return eventstore.Position{}
	}
	p, err := eventstore.ParsePosition(v)
	if err != nil {
		c.add("min_position", "invalid", "min_position must be a position from Eventdesk-Position, e.g. 1234-567")
	}
	return p
}
