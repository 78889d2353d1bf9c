package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// DecodeJSON decodes body, a JSON object, into dst (a pointer to a struct)
// strictly, and reports which top-level members were present:
//
//   - empty, malformed JSON (naming the byte offset), not an object: 400,
//     a *BodyError from Members, the step every surface's reader shares;
//   - members dst does not have, at any depth: 400 naming them;
//   - members of the wrong type: 422 listing every one.
func DecodeJSON(body []byte, dst any) (present map[string]bool, err error) {
	members, err := Members(body)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(dst).Elem()
	fields := jsonFields(v.Type())
	var unknown []string
	for name := range members {
		if _, ok := fields[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, NewProblem(http.StatusBadRequest, "unknown_field", "unknown field(s): "+strings.Join(unknown, ", "),
			FieldErrors(unknown, "unknown_field", "not a member of this request")...)
	}
	present = map[string]bool{}
	var bad []FieldError
	var nestedUnknown []string
	for _, name := range slices.Sorted(maps.Keys(members)) {
		present[name] = true
		err := decodeMember(members[name], v.FieldByIndex(fields[name]).Addr().Interface())
		if err == nil {
			continue
		}
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			path := name
			if te.Field != "" {
				path = name + "." + te.Field
			}
			want, got := jsonType(te.Type), te.Value
			if strings.HasPrefix(got, "number") && (want == "a number" || want == "an integer") {
				got = "a number out of its range"
			}
			bad = append(bad, FieldError{Field: path, Code: "wrong_type", Detail: fmt.Sprintf("%s must be %s, not %s", path, want, got)})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			nestedUnknown = append(nestedUnknown, name+"."+f)
		default:
			// Never the decoder's text: it names Go types ("cannot
			// unmarshal number 1e400 into Go value of type float64").
			bad = append(bad, FieldError{Field: name, Code: "wrong_type",
				Detail: fmt.Sprintf("%s must be %s within its range", name, jsonType(reflect.TypeOf(v.FieldByIndex(fields[name]).Interface())))})
		}
	}
	if len(nestedUnknown) > 0 {
		return nil, NewProblem(http.StatusBadRequest, "unknown_field", "unknown field(s): "+strings.Join(nestedUnknown, ", "),
			FieldErrors(nestedUnknown, "unknown_field", "not a member of this request")...)
	}
	if len(bad) > 0 {
		return nil, Invalid(bad...)
	}
	return present, nil
}

// Invalid is the 422 problem listing every bad field.
func Invalid(errs ...FieldError) *Problem {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Detail
	}
	return NewProblem(http.StatusUnprocessableEntity, "validation_failed", strings.Join(msgs, "; "), errs...)
}

func FieldErrors(fields []string, code, detail string) []FieldError {
	out := make([]FieldError, len(fields))
	for i, f := range fields {
		out[i] = FieldError{Field: f, Code: code, Detail: f + ": " + detail}
	}
	return out
}

// decodeMember decodes one member's value into dst, refusing unknown
// members of nested objects. Values that hold no struct (the common case:
// strings, numbers, lists of them, free-form maps) skip the Decoder and its
// buffer.
func decodeMember(raw json.RawMessage, dst any) error {
	if !holdsStruct(reflect.TypeOf(dst).Elem()) {
		return json.Unmarshal(raw, dst)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

// holdsStruct says whether values of t can contain a struct that unknown
// JSON members would be silently dropped from.
func holdsStruct(t reflect.Type) bool {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			t = t.Elem()
		case reflect.Map:
			t = t.Elem()
		case reflect.Struct:
			return !t.Implements(unmarshalerType) && !reflect.PointerTo(t).Implements(unmarshalerType)
		default:
			return false
		}
	}
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// fieldCache holds jsonFields per request type: requests decode into a
// handful of types, and walking one by reflection on every request costs
// more than the decoding.
var fieldCache sync.Map // reflect.Type -> map[string][]int

// jsonFields maps the JSON member names of struct type t to field indexes.
func jsonFields(t reflect.Type) map[string][]int {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string][]int)
	}
	f := walkFields(t)
	fieldCache.Store(t, f)
	return f
}

func walkFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Index
	}
	return out
}

// jsonType names the JSON type that decodes into t.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonType(t.Elem())
	}
	return "a valid value" // never a Go type's name
}
