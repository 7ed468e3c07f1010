package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// The readers in this package decode with the small lexer below rather than encoding/json.
// A 100,000-image describe-images file is about 50 MB; encoding/json alone spends half a
// second on it on two cores, half of `shipshape plan`'s budget for the whole run, while this
// lexer reads it in one pass, without reflection, in about a quarter of that. FuzzRead checks
// it against arbitrary input.

// readAll reads r to the end. When r can tell its size (bytes.Reader, strings.Reader, a
// regular file) it reads into a buffer of that size, so that a large input is not copied
// while the buffer grows.
func readAll(r io.Reader) ([]byte, error) {
	size := -1
	switch r := r.(type) {
	case interface{ Len() int }:
		size = r.Len()
	case io.Seeker:
		if cur, err := r.Seek(0, io.SeekCurrent); err == nil {
			if end, err := r.Seek(0, io.SeekEnd); err == nil {
				size = int(end - cur)
			}
			if _, err := r.Seek(cur, io.SeekStart); err != nil {
				return nil, fmt.Errorf("reading input: %w", err)
			}
		}
	}
	if size < 0 {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("reading input: %w", err)
		}
		return data, nil
	}
	data := make([]byte, size)
	n, err := io.ReadFull(r, data)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return data[:n], nil
	case err != nil:
		return nil, fmt.Errorf("reading input: %w", err)
	}
	// The input grew since its size was taken: read on.
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading input: %w", err)
	}
	return append(data, rest...), nil
}

// checkEncoding rejects UTF-16, which is what Windows PowerShell writes when output is
// redirected to a file.
func checkEncoding(data []byte) error {
	if len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF) {
		return errors.New("input is UTF-16 encoded; convert it to UTF-8")
	}
	return nil
}

// skipSpace returns the position of the first byte at or after pos that is not JSON
// whitespace (or a UTF-8 byte order mark at the start).
func skipSpace(data []byte, pos int) int {
	if pos == 0 && bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		pos = 3
	}
	for pos < len(data) {
		switch data[pos] {
		case ' ', '\t', '\n', '\r':
			pos++
		default:
			return pos
		}
	}
	return pos
}

// position describes a byte offset in data as "line L, column C", both counted from 1.
func position(data []byte, off int) string {
	off = min(max(off, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// lexer reads JSON from memory, one token at a time. It is what both readers are built on:
// one pass, no reflection, and strings that are slices of the input unless they have escapes.
// Methods skip whitespace before what they read, and leave pos after it.
type lexer struct {
	data []byte
	pos  int
}

// keySet records which of an object's members were read, numbered by the reader, so that a
// repeated key is caught: a JSON decoder keeps the last value of a repeated key silently,
// and a repeated imageDetails or digest would hide images from the plan.
type keySet uint32

// add marks member f and reports whether it was not marked before.
func (s *keySet) add(f int) bool {
	bit := keySet(1) << f
	if *s&bit != 0 {
		return false
	}
	*s |= bit
	return true
}

// syntaxError is malformed JSON. Its message starts with the line and column.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func (l *lexer) peek() byte {
	l.pos = skipSpace(l.data, l.pos)
	if l.pos == len(l.data) {
		return 0
	}
	return l.data[l.pos]
}

// syntaxError reports msg at the current position.
func (l *lexer) syntaxError(msg string) error {
	if l.pos >= len(l.data) {
		return &syntaxError{position(l.data, len(l.data)) + ": unexpected end of input"}
	}
	return &syntaxError{position(l.data, l.pos) + ": " + msg}
}

func (l *lexer) unexpected(want string) error {
	if l.pos >= len(l.data) {
		return l.syntaxError("")
	}
	return l.syntaxError(fmt.Sprintf("unexpected %q, want %s", l.data[l.pos], want))
}

// beginObject reads '{' and reports whether a member follows (or reads '}' too).
func (l *lexer) beginObject() (bool, error) {
	if l.peek() != '{' {
		return false, l.unexpected("'{'")
	}
	l.pos++
	if l.peek() == '}' {
		l.pos++
		return false, nil
	}
	return true, nil
}

// key reads a member's name and the colon after it.
func (l *lexer) key() ([]byte, error) {
	if l.peek() != '"' {
		return nil, l.unexpected("a string (an object key)")
	}
	k, err := l.str()
	if err != nil {
		return nil, err
	}
	if l.peek() != ':' {
		return nil, l.unexpected("':' after object key")
	}
	l.pos++
	return k, nil
}

// nextMember reads the ',' or '}' after a member and reports whether another follows.
func (l *lexer) nextMember() (bool, error) {
	switch l.peek() {
	case ',':
		l.pos++
		return true, nil
	case '}':
		l.pos++
		return false, nil
	}
	return false, l.unexpected("',' or '}' after object member")
}

// beginArray reads '[' and reports whether an element follows (or reads ']' too).
func (l *lexer) beginArray() (bool, error) {
	if l.peek() != '[' {
		return false, l.unexpected("'['")
	}
	l.pos++
	if l.peek() == ']' {
		l.pos++
		return false, nil
	}
	return true, nil
}

// nextElement reads the ',' or ']' after an element and reports whether another follows.
func (l *lexer) nextElement() (bool, error) {
	switch l.peek() {
	case ',':
		l.pos++
		return true, nil
	case ']':
		l.pos++
		return false, nil
	}
	return false, l.unexpected("',' or ']' after array element")
}

// str reads a string and returns its contents. Without escapes they are a slice of the input.
func (l *lexer) str() ([]byte, error) {
	if l.peek() != '"' {
		return nil, l.unexpected("a string")
	}
	start := l.pos + 1
	end := bytes.IndexByte(l.data[start:], '"')
	if end < 0 {
		l.pos = len(l.data)
		return nil, l.syntaxError("")
	}
	end += start
	if raw := l.data[start:end]; bytes.IndexByte(raw, '\\') < 0 && plain(raw) {
		l.pos = end + 1
		return raw, nil
	}
	// Escapes, control characters or invalid UTF-8: find the real end, and let
	// encoding/json unescape, reject control characters and replace invalid UTF-8.
	for end = start; end < len(l.data) && l.data[end] != '"'; end++ {
		if l.data[end] == '\\' {
			end++
		}
	}
	if end >= len(l.data) {
		l.pos = len(l.data)
		return nil, l.syntaxError("")
	}
	var s string
	if err := json.Unmarshal(l.data[start-1:end+1], &s); err != nil {
		return nil, l.syntaxError("invalid escape in string")
	}
	l.pos = end + 1
	return []byte(s), nil
}

// plain reports whether a string's raw bytes need no decoding: no control characters, and
// valid UTF-8.
func plain(b []byte) bool {
	ascii := true
	for _, c := range b {
		if c < 0x20 {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(b)
}

// number reads a number and returns its text.
func (l *lexer) number() ([]byte, error) {
	l.peek()
	start := l.pos
	d := l.data
	i := start
	if i < len(d) && d[i] == '-' {
		i++
	}
	intStart := i
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	ok := i > intStart && (d[intStart] != '0' || i == intStart+1)
	if ok && i < len(d) && d[i] == '.' {
		i++
		n := i
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
		ok = i > n
	}
	if ok && i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		n := i
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
		ok = i > n
	}
	if !ok {
		return nil, l.syntaxError("invalid number")
	}
	l.pos = i
	return d[start:i], nil
}

// literal reads the literal word (null, true or false).
func (l *lexer) literal(word string) error {
	l.peek()
	if !bytes.HasPrefix(l.data[l.pos:], []byte(word)) {
		return l.unexpected(word)
	}
	l.pos += len(word)
	return nil
}

// skipValue reads any value and discards it.
func (l *lexer) skipValue() error {
	return l.skip(0)
}

func (l *lexer) skip(depth int) error {
	if depth > 1000 {
		return l.syntaxError("too deeply nested")
	}
	switch c := l.peek(); {
	case c == '"':
		_, err := l.str()
		return err
	case c == '{':
		more, err := l.beginObject()
		for ; more; more, err = l.nextMember() {
			if _, err := l.key(); err != nil {
				return err
			}
			if err := l.skip(depth + 1); err != nil {
				return err
			}
		}
		return err
	case c == '[':
		more, err := l.beginArray()
		for ; more; more, err = l.nextElement() {
			if err := l.skip(depth + 1); err != nil {
				return err
			}
		}
		return err
	case c == 't':
		return l.literal("true")
	case c == 'f':
		return l.literal("false")
	case c == 'n':
		return l.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := l.number()
		return err
	}
	return l.unexpected("a JSON value")
}
