package policy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// maxDepth bounds JSON nesting; a lifecycle policy is four levels deep, so anything far
// deeper is hostile or broken input and must not exhaust the stack.
const maxDepth = 32

// Parse decodes a lifecycle policy strictly, the way ECR's validator reads it: unknown
// properties, null, wrong JSON types and enum values in the wrong case are errors that name
// their JSON path. Malformed JSON is reported with its line and column. Parse checks the
// document's shape only; Validate checks ECR's rules across fields. Load does both.
//
// The error, when not nil, is an ErrorList holding every problem found.
func Parse(text []byte) (*Policy, error) {
	c := &errs{src: text, pos: map[string]int{}}
	root, err := parseTree(text)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			line, col := lineCol(text, max(se.off, 0))
			return nil, ErrorList{{Line: line, Column: col, Msg: "invalid JSON: " + se.msg}}
		}
		return nil, ErrorList{{Msg: "invalid JSON: " + err.Error()}}
	}
	d := decoder{errs: c}
	p := d.policy(root)
	p.pos, p.src = c.pos, text
	for _, e := range c.list {
		if p.broken == nil {
			p.broken = make(map[string]bool)
		}
		p.broken[e.Path] = true
	}
	return p, c.err()
}

// Load parses text, checks its length against ECR's bounds and validates it, returning
// every problem found as an ErrorList.
func Load(text []byte) (*Policy, error) {
	p, err := Parse(text)
	var list ErrorList
	if err != nil {
		if !errors.As(err, &list) || p == nil {
			return nil, err
		}
	}
	c := &errs{src: text, pos: p.pos, broken: map[string]bool{}}
	for _, e := range list {
		c.list = append(c.list, e)
		c.broken[e.Path] = true
	}
	if n := textLength(text); n < MinTextLength || n > MaxTextLength {
		c.list = append(c.list, &Error{Msg: fmt.Sprintf(
			"policy text is %d characters; ECR accepts %d to %d (a rule description makes a short policy long enough)",
			n, MinTextLength, MaxTextLength)})
	}
	validate(p, c)
	slices.SortStableFunc(c.list, func(a, b *Error) int {
		switch {
		case a.Line == 0 || b.Line == 0:
			return cmp.Compare(b.Line, a.Line) // unpositioned errors last
		case a.Line != b.Line:
			return cmp.Compare(a.Line, b.Line)
		}
		return cmp.Compare(a.Column, b.Column)
	})
	return p, c.err()
}

// textLength counts characters as the ECR API does (UTF-16 code units).
func textLength(text []byte) int {
	n := 0
	for _, r := range string(text) {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// --- a small JSON tree that remembers where each value starts ---

type kind int

const (
	kObject kind = iota
	kArray
	kString
	kNumber
	kBool
	kNull
)

func (k kind) String() string {
	return [...]string{"an object", "an array", "a string", "a number", "a boolean", "null"}[k]
}

type node struct {
	kind  kind
	off   int
	str   string // string value, or number literal
	keys  []string
	koffs []int
	vals  []*node // object values (parallel to keys) or array elements
}

type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

type treeParser struct {
	src []byte
	dec *json.Decoder
}

func parseTree(src []byte) (*node, error) {
	if len(bytes.TrimSpace(src)) == 0 {
		return nil, &syntaxError{off: 0, msg: "the policy is empty"}
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	p := &treeParser{src: src, dec: dec}
	root, err := p.value(0)
	if err != nil {
		return nil, err
	}
	off := p.start()
	if _, err := dec.Token(); err != io.EOF {
		if msg, ok := p.comment(off); ok {
			return nil, &syntaxError{off: off, msg: msg}
		}
		return nil, &syntaxError{off: off, msg: "unexpected data after the end of the policy object"}
	}
	return root, nil
}

// comment recognises a JavaScript-style comment starting at off, which people put in policy
// files and which JSON (and so ECR) does not allow, and says so.
func (p *treeParser) comment(off int) (string, bool) {
	if off < 0 || off+1 >= len(p.src) || p.src[off] != '/' {
		return "", false
	}
	switch p.src[off+1] {
	case '/':
		return "JSON has no comments: remove this // comment (ECR rejects it too; a rule's \"description\" can hold a note)", true
	case '*':
		return "JSON has no comments: remove this /* */ comment (ECR rejects it too; a rule's \"description\" can hold a note)", true
	}
	return "", false
}

// start is the offset of the next token: the decoder's position past separators.
func (p *treeParser) start() int {
	off := int(p.dec.InputOffset())
	for off < len(p.src) {
		switch p.src[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

func (p *treeParser) token() (json.Token, int, error) {
	off := p.start()
	tok, err := p.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			if msg, ok := p.comment(off); ok {
				return nil, off, &syntaxError{off: off, msg: msg}
			}
			off := p.offending(se, off)
			return nil, off, &syntaxError{off: off, msg: se.Error()}
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, len(p.src), &syntaxError{off: len(p.src), msg: "unexpected end of input"}
		default:
			return nil, off, &syntaxError{off: off, msg: err.Error()}
		}
	}
	return tok, off, nil
}

// offending finds the byte a syntax error is about. Depending on where the decoder noticed
// the problem, its Offset counts that byte or stops just before it; for an error in a value
// it decodes whole, Offset counts from the value's start, the token start tok.
func (p *treeParser) offending(se *json.SyntaxError, tok int) int {
	off := int(se.Offset)
	if _, rest, ok := strings.Cut(se.Error(), "invalid character '"); ok && len(rest) > 1 && rest[1] == '\'' {
		for _, o := range []int{off - 1, off, tok} {
			if o >= 0 && o < len(p.src) && p.src[o] == rest[0] {
				return o
			}
		}
	}
	return max(off-1, 0)
}

func (p *treeParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		off := p.start()
		return nil, &syntaxError{off: off, msg: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	tok, off, err := p.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: kObject, off: off}
			for p.dec.More() {
				ktok, koff, err := p.token()
				if err != nil {
					return nil, err
				}
				key, _ := ktok.(string)
				for _, k := range n.keys {
					if k == key {
						return nil, &syntaxError{off: koff, msg: fmt.Sprintf("duplicate key %q", key)}
					}
				}
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.keys, n.koffs, n.vals = append(n.keys, key), append(n.koffs, koff), append(n.vals, v)
			}
			if _, _, err := p.token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: kArray, off: off}
			for p.dec.More() {
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			if _, _, err := p.token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		}
		return nil, &syntaxError{off: off, msg: fmt.Sprintf("unexpected %q", t)}
	case string:
		return &node{kind: kString, off: off, str: t}, nil
	case json.Number:
		return &node{kind: kNumber, off: off, str: string(t)}, nil
	case bool:
		return &node{kind: kBool, off: off, str: strconv.FormatBool(t)}, nil
	case nil:
		return &node{kind: kNull, off: off}, nil
	}
	return nil, &syntaxError{off: off, msg: fmt.Sprintf("unexpected token %v", tok)}
}

// --- typed decoding with paths ---

type decoder struct{ *errs }

// field is one known property of an object and how to decode it.
type field struct {
	name   string
	decode func(path string, n *node)
}

// object walks an object's properties, rejecting unknown ones and null values.
func (d decoder) object(path string, n *node, fields []field) bool {
	if !d.is(path, n, kObject) {
		return false
	}
	for i, key := range n.keys {
		p := join(path, key)
		v := n.vals[i]
		var f *field
		for j := range fields {
			if fields[j].name == key {
				f = &fields[j]
			}
		}
		if f == nil {
			d.at(p, n.koffs[i], "unknown property; ECR rejects properties it does not define (allowed here: %s)", names(fields))
			continue
		}
		d.pos[p] = v.off
		if v.kind == kNull {
			d.at(p, v.off, "must not be null: omit the property instead (ECR rejects null)")
			continue
		}
		f.decode(p, v)
	}
	return true
}

func (d decoder) is(path string, n *node, want kind) bool {
	if n.kind == want {
		return true
	}
	d.at(path, n.off, "must be %s, found %s", want, describe(n))
	return false
}

func describe(n *node) string {
	switch n.kind {
	case kString:
		return fmt.Sprintf("the string %q", n.str)
	case kNumber, kBool:
		return fmt.Sprintf("%s %s", n.kind, n.str)
	}
	return n.kind.String()
}

func (d decoder) policy(root *node) *Policy {
	p := &Policy{}
	d.pos[""] = root.off
	if root.kind != kObject {
		d.at("", root.off, "a lifecycle policy must be a JSON object with a \"rules\" array, found %s", describe(root))
		return p
	}
	d.object("", root, []field{{"rules", func(path string, n *node) {
		if !d.is(path, n, kArray) {
			return
		}
		p.Rules = make([]Rule, len(n.vals))
		for i, v := range n.vals {
			rp := fmt.Sprintf("%s[%d]", path, i)
			d.pos[rp] = v.off
			d.rule(rp, v, &p.Rules[i])
		}
	}}})
	return p
}

func (d decoder) rule(path string, n *node, r *Rule) {
	d.object(path, n, []field{
		{"rulePriority", func(p string, v *node) { d.integer(p, v, &r.RulePriority) }},
		{"description", func(p string, v *node) { d.str(p, v, &r.Description) }},
		{"selection", func(p string, v *node) { d.selection(p, v, &r.Selection) }},
		{"action", func(p string, v *node) {
			d.object(p, v, []field{
				{"type", func(p string, v *node) {
					enum(d, p, v, &r.Action.Type, ActionExpire, ActionTransition)
				}},
				{"targetStorageClass", func(p string, v *node) {
					enum(d, p, v, &r.Action.TargetStorageClass, StorageArchive)
				}},
			})
		}},
	})
}

func (d decoder) selection(path string, n *node, s *Selection) {
	d.object(path, n, []field{
		{"tagStatus", func(p string, v *node) {
			enum(d, p, v, &s.TagStatus, TagStatusTagged, TagStatusUntagged, TagStatusAny)
		}},
		{"tagPatternList", func(p string, v *node) { d.strings(p, v, &s.TagPatternList) }},
		{"tagPrefixList", func(p string, v *node) { d.strings(p, v, &s.TagPrefixList) }},
		{"storageClass", func(p string, v *node) {
			enum(d, p, v, &s.StorageClass, StorageStandard, StorageArchive)
		}},
		{"countType", func(p string, v *node) {
			enum(d, p, v, &s.CountType, CountImageCountMoreThan, CountSinceImagePushed,
				CountSinceImagePulled, CountSinceImageTransitioned)
		}},
		{"countUnit", func(p string, v *node) { enum(d, p, v, &s.CountUnit, CountUnitDays) }},
		{"countNumber", func(p string, v *node) { d.integer(p, v, &s.CountNumber) }},
	})
}

func (d decoder) str(path string, n *node, dst *string) {
	if d.is(path, n, kString) {
		*dst = n.str
	}
}

func (d decoder) strings(path string, n *node, dst *[]string) {
	if !d.is(path, n, kArray) {
		return
	}
	out := make([]string, 0, len(n.vals))
	for i, v := range n.vals {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.pos[p] = v.off
		if v.kind == kNull {
			d.at(p, v.off, "must not be null")
			continue
		}
		if d.is(p, v, kString) {
			out = append(out, v.str)
		}
	}
	*dst = out
}

func (d decoder) integer(path string, n *node, dst *int) {
	if !d.is(path, n, kNumber) {
		return
	}
	if strings.ContainsAny(n.str, ".eE") {
		d.at(path, n.off, "must be an integer, found %s", n.str)
		return
	}
	v, err := strconv.ParseInt(n.str, 10, 64)
	if err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		d.at(path, n.off, "%s is out of range (at most %d)", n.str, math.MaxInt32)
		return
	}
	*dst = int(v)
}

func enum[T ~string](d decoder, path string, n *node, dst *T, allowed ...T) {
	if !d.is(path, n, kString) {
		return
	}
	for _, a := range allowed {
		if string(a) == n.str {
			*dst = a
			return
		}
	}
	quoted := make([]string, len(allowed))
	hint := ""
	for i, a := range allowed {
		quoted[i] = strconv.Quote(string(a))
		if strings.EqualFold(string(a), n.str) {
			hint = fmt.Sprintf("; values are case-sensitive: write %q", a)
		}
	}
	if len(allowed) == 1 {
		d.at(path, n.off, "must be %s, found %q%s", quoted[0], n.str, hint)
		return
	}
	d.at(path, n.off, "must be one of %s, found %q%s", strings.Join(quoted, ", "), n.str, hint)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func names(fields []field) string {
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = f.name
	}
	return strings.Join(s, ", ")
}
