package listener

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/api/web"
)

// SyntaxError is where a body stops being JSON and what was found there.
// Line and Column count from 1 (Column in characters); Offset is the
// 0-based byte offset.
type SyntaxError struct {
	Line, Column, Offset int
	// Found names what is at the position: "comment", "trailing comma",
	// "missing comma", "curly quote U+201C; use a straight double quote",
	// "placeholder <email>", "unquoted word senderUser", "end of input", or
	// the character.
	Found string
	// Message says what was expected and why the found thing is wrong.
	Message string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d (byte %d): %s", e.Line, e.Column, e.Offset, e.Message)
}

// maxDepth bounds the nesting of a body: web.MaxJSONDepth levels, the
// body's own value being level 1, as on every surface.
const maxDepth = web.MaxJSONDepth

// checkSyntax reports the first place b is not one JSON value (RFC 8259),
// or nil. It reads b once, never guesses a repair and names the usual
// mistakes of hand-written payloads precisely: JavaScript comments,
// trailing and missing commas, curly quotes, unquoted keys and <…>
// placeholders.
func checkSyntax(b []byte) *SyntaxError {
	s := &scanner{b: b}
	s.ws()
	if s.value(0) {
		s.ws()
		if s.err == nil && s.pos < len(b) {
			s.fail(s.pos, "", "expected the end of the body after the JSON value")
		}
	}
	return s.err
}

type scanner struct {
	b   []byte
	pos int
	err *SyntaxError
}

// fail records the first error at offset at; found "" describes what is
// there.
func (s *scanner) fail(at int, found, msg string) bool {
	if s.err != nil {
		return false
	}
	if found == "" {
		found = s.describe(at)
	}
	line, col := 1, 1
	for i := 0; i < at && i < len(s.b); {
		r, n := utf8.DecodeRune(s.b[i:])
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += n
	}
	s.err = &SyntaxError{Line: line, Column: col, Offset: at, Found: found, Message: msg + " (found: " + found + ")"}
	return false
}

// describe names what is at offset at.
func (s *scanner) describe(at int) string {
	if at >= len(s.b) {
		return "end of input"
	}
	c := s.b[at]
	switch {
	case c == '/' && at+1 < len(s.b) && (s.b[at+1] == '/' || s.b[at+1] == '*'):
		return "comment"
	case c == '<':
		end := at + 1
		for end < len(s.b) && end-at < 64 && s.b[end] != '>' && s.b[end] != '\n' {
			end++
		}
		if end < len(s.b) && s.b[end] == '>' {
			return "placeholder " + string(s.b[at:end+1])
		}
		return "'<'"
	case c == '\'':
		return "single quote; use a straight double quote"
	}
	r, _ := utf8.DecodeRune(s.b[at:])
	switch r {
	case '\u201C', '\u201D', '\u2018', '\u2019', '\u201E', '\u00AB', '\u00BB':
		return fmt.Sprintf("curly quote U+%04X; use a straight double quote", r)
	case utf8.RuneError:
		return "invalid UTF-8"
	}
	if unicode.IsLetter(r) || r == '_' {
		end := at
		for end < len(s.b) {
			r, n := utf8.DecodeRune(s.b[end:])
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') || end-at > 64 {
				break
			}
			end += n
		}
		return "unquoted word " + string(s.b[at:end])
	}
	if r < 0x20 {
		return fmt.Sprintf("control character U+%04X", r)
	}
	return strconv.QuoteRune(r)
}

// ws skips whitespace.
func (s *scanner) ws() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) bool {
	if depth >= maxDepth {
		return s.fail(s.pos, "nesting deeper than "+strconv.Itoa(maxDepth), "the body nests too deeply")
	}
	if s.pos >= len(s.b) {
		return s.fail(s.pos, "", "expected a value")
	}
	switch c := s.b[s.pos]; {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail(s.pos, "", "expected a value (a string in straight double quotes, a number, an object, an array, true, false or null)")
}

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.pos >= len(word) && string(s.b[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return true
	}
	return s.fail(s.pos, "", "expected a value (a string in straight double quotes, a number, an object, an array, true, false or null)")
}

func (s *scanner) object(depth int) bool {
	s.pos++ // {
	s.ws()
	if s.pos < len(s.b) && s.b[s.pos] == '}' {
		s.pos++
		return true
	}
	for {
		if s.pos >= len(s.b) || s.b[s.pos] != '"' {
			return s.fail(s.pos, "", "expected a key in straight double quotes")
		}
		keyAt := s.pos
		if !s.str() {
			return false
		}
		key := string(s.b[keyAt:s.pos])
		s.ws()
		if s.pos >= len(s.b) || s.b[s.pos] != ':' {
			msg := "expected ':' after the key " + key
			if k, err := strconv.Unquote(key); err == nil && containsAny(k, ":{[") {
				msg += " (the key holds '" + string(k[indexAny(k, ":{[")]) + "': is its closing quote missing?)"
			}
			return s.fail(s.pos, "", msg)
		}
		s.pos++
		s.ws()
		if !s.value(depth + 1) {
			return false
		}
		s.ws()
		if s.pos >= len(s.b) {
			return s.fail(s.pos, "", "expected ',' or '}' after the member "+key)
		}
		switch s.b[s.pos] {
		case '}':
			s.pos++
			return true
		case ',':
			comma := s.pos
			s.pos++
			s.ws()
			if s.pos < len(s.b) && s.b[s.pos] == '}' {
				return s.fail(comma, "trailing comma", "a comma must be followed by another member; remove the comma before '}'")
			}
		case '"':
			return s.fail(s.pos, "missing comma", "expected ',' or '}' after the member "+key+"; a comma is missing before the next key")
		default:
			return s.fail(s.pos, "", "expected ',' or '}' after the member "+key)
		}
	}
}

func (s *scanner) array(depth int) bool {
	s.pos++ // [
	s.ws()
	if s.pos < len(s.b) && s.b[s.pos] == ']' {
		s.pos++
		return true
	}
	for {
		if !s.value(depth + 1) {
			return false
		}
		s.ws()
		if s.pos >= len(s.b) {
			return s.fail(s.pos, "", "expected ',' or ']' after an array element")
		}
		switch c := s.b[s.pos]; {
		case c == ']':
			s.pos++
			return true
		case c == ',':
			comma := s.pos
			s.pos++
			s.ws()
			if s.pos < len(s.b) && s.b[s.pos] == ']' {
				return s.fail(comma, "trailing comma", "a comma must be followed by another element; remove the comma before ']'")
			}
		case c == '"' || c == '{' || c == '[' || c == '-' || c >= '0' && c <= '9':
			return s.fail(s.pos, "missing comma", "expected ',' or ']' after an array element; a comma is missing before the next element")
		default:
			return s.fail(s.pos, "", "expected ',' or ']' after an array element")
		}
	}
}

func (s *scanner) str() bool {
	start := s.pos
	s.pos++ // "
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			return true
		case c == '\\':
			if s.pos+1 >= len(s.b) {
				return s.fail(s.pos+1, "", "expected an escape after '\\'")
			}
			switch s.b[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				for i := 2; i < 6; i++ {
					if s.pos+i >= len(s.b) || !isHex(s.b[s.pos+i]) {
						return s.fail(s.pos, "invalid escape", "\\u must be followed by four hex digits")
					}
				}
				s.pos += 6
			default:
				return s.fail(s.pos, "invalid escape \\"+string(s.b[s.pos+1]), "a string escape is one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
			}
		case c < 0x20:
			return s.fail(s.pos, "", "a string may not hold a raw control character (a line break inside a string? is its closing quote missing?)")
		case c >= 0x80:
			r, n := utf8.DecodeRune(s.b[s.pos:])
			if r == utf8.RuneError && n <= 1 {
				return s.fail(s.pos, "invalid UTF-8", "the body must be UTF-8")
			}
			s.pos += n
		default:
			s.pos++
		}
	}
	return s.fail(len(s.b), "end of input", "the string opened at byte "+strconv.Itoa(start)+" is never closed")
}

func (s *scanner) number() bool {
	start := s.pos
	if s.b[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	switch {
	case s.pos < len(s.b) && s.b[s.pos] == '0':
		s.pos++
	case digits() == 0:
		return s.fail(s.pos, "", "expected a digit in the number")
	}
	if s.pos < len(s.b) && s.b[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return s.fail(s.pos, "", "expected a digit after the decimal point")
		}
	}
	if s.pos < len(s.b) && (s.b[s.pos] == 'e' || s.b[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.b) && (s.b[s.pos] == '+' || s.b[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return s.fail(s.pos, "", "expected a digit in the exponent")
		}
	}
	_ = start
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func containsAny(s, chars string) bool { return indexAny(s, chars) >= 0 }

func indexAny(s, chars string) int {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return i
			}
		}
	}
	return -1
}
