package policy

import (
	"bytes"
	"fmt"
	"strings"
)

// Error is one problem with a policy, located by its JSON path ("rules[1].selection.countUnit")
// and, when the policy was parsed from text, by line and column (1-based; 0 when unknown).
type Error struct {
	Path   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	switch {
	case e.Path != "":
		return e.Path + ": " + e.Msg
	case e.Line > 0:
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
	default:
		return e.Msg
	}
}

// ErrorList is every problem found in one policy, in document order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// errs collects errors with positions for one policy text.
type errs struct {
	src  []byte
	pos  map[string]int
	list ErrorList
	seen map[string]bool
	// broken holds the paths whose value could not be decoded; checks on them and on
	// what they contain would only repeat the problem.
	broken map[string]bool
}

// isBroken reports whether path or one of its ancestors failed to decode.
func (c *errs) isBroken(path string) bool {
	if len(c.broken) == 0 {
		return false
	}
	for p := path; ; {
		if c.broken[p] {
			return true
		}
		if p == "" {
			return false
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			i = 0
		}
		p = p[:i]
	}
}

// at records an error at path; off is the byte offset it refers to, or -1 to look the path up.
func (c *errs) at(path string, off int, format string, args ...any) {
	if c.seen[path] || c.isBroken(path) {
		return // one error per path: the first is the one worth reading
	}
	if c.seen == nil {
		c.seen = make(map[string]bool)
	}
	c.seen[path] = true
	e := &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
	if off < 0 {
		off = c.lookup(path)
	}
	if off >= 0 && c.src != nil {
		e.Line, e.Column = lineCol(c.src, off)
	}
	c.list = append(c.list, e)
}

// lookup finds the offset of path or of its nearest recorded ancestor.
func (c *errs) lookup(path string) int {
	for p := path; ; {
		if off, ok := c.pos[p]; ok {
			return off
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			if off, ok := c.pos[""]; ok {
				return off
			}
			return -1
		}
		p = p[:i]
	}
}

func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}

// lineCol converts a byte offset into a 1-based line and column (columns count bytes).
func lineCol(src []byte, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	before := src[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = off - bytes.LastIndexByte(before, '\n')
	return line, col
}
