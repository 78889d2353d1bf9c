package native

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eventdesk/eventdesk/api/web"
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
