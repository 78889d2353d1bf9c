package listener

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// TemplateFields are what a template of an automatic message may print:
// the new customer's first name, last name, code (PID-12, LID-3), first
// e-mail address and first phone number, as {{.Name}}, {{.LastName}},
// {{.Code}}, {{.Email}} and {{.Phone}}.
type TemplateFields struct {
	Name     string
	LastName string
	Code     string
	Email    string
	Phone    string
}

// FieldNames returns the names a template may use, in documentation order.
func FieldNames() []string { return []string{"Name", "LastName", "Code", "Email", "Phone"} }

// MaxTemplateLength bounds a template, in bytes.
const MaxTemplateLength = 10000

// ParseTemplate parses text as a template of field and checks that it only
// prints TemplateFields: text and actions {{.Field}}, nothing else (no
// function, pipeline, variable, condition or range). A bad template is
// ErrInvalidField at field, saying what is wrong.
func ParseTemplate(field, text string) (*template.Template, error) {
	if len(text) > MaxTemplateLength {
		return nil, ErrInvalidField.At(field).Withf("%s must be at most %d bytes", field, MaxTemplateLength)
	}
	t, err := template.New(field).Option("missingkey=error").Parse(text)
	if err != nil {
		msg := err.Error()
		if _, after, ok := strings.Cut(msg, field+":"); ok {
			msg = strings.TrimSpace(after)
		}
		return nil, ErrInvalidField.At(field).Withf("%s is not a valid template: %s", field, msg)
	}
	if t.Tree == nil || t.Tree.Root == nil {
		return t, nil
	}
	if len(t.Templates()) > 1 {
		return nil, ErrInvalidField.At(field).Withf("%s may not define templates", field)
	}
	for _, n := range t.Tree.Root.Nodes {
		if err := checkNode(field, n); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func checkNode(field string, n parse.Node) error {
	switch n := n.(type) {
	case *parse.TextNode:
		return nil
	case *parse.ActionNode:
		p := n.Pipe
		if p != nil && len(p.Decl) == 0 && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
			if f, ok := p.Cmds[0].Args[0].(*parse.FieldNode); ok && len(f.Ident) == 1 && slices.Contains(FieldNames(), f.Ident[0]) {
				return nil
			}
		}
		return ErrInvalidField.At(field).Withf("%s: %s is not allowed; a template may only print {{.%s}}",
			field, n.String(), strings.Join(FieldNames(), "}}, {{."))
	default:
		return ErrInvalidField.At(field).Withf("%s: %s is not allowed; a template may only print {{.%s}}",
			field, n.String(), strings.Join(FieldNames(), "}}, {{."))
	}
}

// Render renders text, a template ParseTemplate accepts, with f.
func Render(text string, f TemplateFields) (string, error) {
	t, err := ParseTemplate("template", text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, f); err != nil {
		return "", fmt.Errorf("render template: %w", err)
	}
	return b.String(), nil
}
