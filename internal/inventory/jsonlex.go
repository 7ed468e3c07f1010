package inventory

import (
	"bytes"
	"encoding/binary"
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
//
// The lexer reads either from memory (the snapshot reader) or from a stream through a
// window that it refills as it goes (the describe-images reader), so that a file of a
// million images, half a gigabyte, is never held whole.

// readAll reads r to the end. When r can tell its size (bytes.Reader, strings.Reader, a
// regular file) it reads into a buffer of that size, so that a large input is not copied
// while the buffer grows.
func readAll(r io.Reader) ([]byte, error) {
	return readOn(nil, r)
}

// readOn is readAll of what follows prefix, the start of the input already read: it
// returns the whole input.
func readOn(prefix []byte, r io.Reader) ([]byte, error) {
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
		buf := bytes.NewBuffer(prefix)
		if _, err := buf.ReadFrom(r); err != nil {
			return nil, fmt.Errorf("reading input: %w", err)
		}
		return buf.Bytes(), nil
	}
	data := make([]byte, len(prefix)+size)
	copy(data, prefix)
	n, err := io.ReadFull(r, data[len(prefix):])
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return data[:len(prefix)+n], nil
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
	return skipBlank(data, pos)
}

// skipBlank is skipSpace without the byte order mark, for a window that does not start
// the input.
func skipBlank(data []byte, pos int) int {
	for pos < len(data) {
		switch data[pos] {
		case ' ':
			// Indented JSON (the AWS CLI indents by four spaces a level) starts most lines
			// with runs of spaces, skipped eight at a time.
			pos++
			for pos+8 <= len(data) && binary.LittleEndian.Uint64(data[pos:]) == 0x2020202020202020 {
				pos += 8
			}
		case '\t', '\n', '\r':
			pos++
		default:
			return pos
		}
	}
	return pos
}

// lexer reads JSON one token at a time. It is what both readers are built on: one pass, no
// reflection, and strings that are slices of the input unless they have escapes. Methods
// skip whitespace before what they read, and leave pos after it.
//
// data is the whole input, or with in set a window on a stream: the bytes from some point
// the lexer has passed to as far as it has read. Slices it returns (strings, numbers, keys)
// point into data, so they are valid until the next call that reads, which may move the
// window.
type lexer struct {
	data []byte
	pos  int
	in   *stream
}

// stream is what a lexer reading from a stream knows beyond its window.
type stream struct {
	r io.Reader
	// buf backs data; it grows when a token does not fit.
	buf []byte
	eof bool
	// err is the error that ended the input early, if any.
	err error
	// base is the offset in the input of data[0]; lines counts the newlines before it, and
	// lineStart is the offset of the first byte of the line it is on.
	base, lines, lineStart int
	// mark is the offset of the first byte to keep in the window however far the lexer
	// reads (see setMark), or -1.
	mark int
}

// Window sizes of a streamed input. The window grows to hold a token longer than it (a
// long string, or a value kept under a mark); it never shrinks.
const (
	// streamWindow is what the window starts with: big enough that refills are rare next
	// to the work of reading what they bring, small next to a large input.
	streamWindow = 256 << 10
	// maxEmptyReads is how many reads in a row may return nothing before the input is
	// taken to be stuck, as bufio does.
	maxEmptyReads = 100
)

// newStreamLexer returns a lexer reading r through a window. It reads the first bytes, so
// that a byte order mark or UTF-16 is seen whole; the caller checks l.in.err.
func newStreamLexer(r io.Reader) *lexer {
	return newStreamLexerSize(r, streamWindow)
}

// newStreamLexerSize is newStreamLexer with a window of size bytes to start with.
func newStreamLexerSize(r io.Reader, size int) *lexer {
	s := &stream{r: r, buf: make([]byte, size), mark: -1}
	l := &lexer{data: s.buf[:0], in: s}
	for len(l.data) < 3 && l.more() {
	}
	return l
}

// more reads more of the stream into the window, dropping what lies before both pos and
// the mark, and reports whether it read anything. Positions in data move: callers work
// from pos after it.
func (l *lexer) more() bool {
	s := l.in
	if s == nil || s.eof {
		return false
	}
	keep := l.pos
	if s.mark >= 0 {
		keep = min(keep, s.mark-s.base)
	}
	if keep > 0 {
		dropped := l.data[:keep]
		if n := bytes.Count(dropped, []byte{'\n'}); n > 0 {
			s.lines += n
			s.lineStart = s.base + bytes.LastIndexByte(dropped, '\n') + 1
		}
		n := copy(s.buf, l.data[keep:])
		l.data = s.buf[:n]
		s.base += keep
		l.pos -= keep
	}
	if len(l.data) == len(s.buf) {
		buf := make([]byte, 2*len(s.buf))
		copy(buf, l.data)
		s.buf, l.data = buf, buf[:len(l.data)]
	}
	for range maxEmptyReads {
		n, err := s.r.Read(s.buf[len(l.data):])
		l.data = s.buf[:len(l.data)+n]
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.eof, s.err = true, io.ErrNoProgress
	return false
}

// offset returns the offset in the input of data[pos].
func (l *lexer) offset() int {
	if l.in == nil {
		return l.pos
	}
	return l.in.base + l.pos
}

// setMark keeps the input from offset off on in the window until the mark is reset to the
// value it returns. A mark at or after an earlier one changes nothing.
func (l *lexer) setMark(off int) (prev int) {
	if l.in == nil {
		return -1
	}
	prev = l.in.mark
	if prev < 0 || off < prev {
		l.in.mark = off
	}
	return prev
}

// resetMark restores the mark setMark replaced.
func (l *lexer) resetMark(prev int) {
	if l.in != nil {
		l.in.mark = prev
	}
}

// seek moves the lexer back to offset off, which a mark has kept in the window.
func (l *lexer) seek(off int) {
	if l.in != nil {
		off -= l.in.base
	}
	l.pos = off
}

// since returns the input from offset off, which a mark has kept, to pos.
func (l *lexer) since(off int) []byte {
	if l.in != nil {
		off -= l.in.base
	}
	return l.data[off:l.pos]
}

// position describes the input offset off, in the window, as "line L, column C", both
// counted from 1.
func (l *lexer) position(off int) string {
	base, lines, lineStart := 0, 0, 0
	if s := l.in; s != nil {
		base, lines, lineStart = s.base, s.lines, s.lineStart
	}
	rel := min(max(off-base, 0), len(l.data))
	line := 1 + lines + bytes.Count(l.data[:rel], []byte{'\n'})
	col := base + rel - lineStart + 1
	if nl := bytes.LastIndexByte(l.data[:rel], '\n'); nl >= 0 {
		col = rel - nl
	}
	return fmt.Sprintf("line %d, column %d", line, col)
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

// space skips whitespace, and a byte order mark at the start of the input.
func (l *lexer) space() {
	for {
		if l.in == nil || l.in.base == 0 {
			l.pos = skipSpace(l.data, l.pos)
		} else {
			l.pos = skipBlank(l.data, l.pos)
		}
		if l.pos < len(l.data) || !l.more() {
			return
		}
	}
}

// atEnd reports whether the input ends at pos.
func (l *lexer) atEnd() bool {
	return l.pos >= len(l.data) && !l.more()
}

func (l *lexer) peek() byte {
	l.space()
	if l.pos == len(l.data) {
		return 0
	}
	return l.data[l.pos]
}

// syntaxError reports msg at the current position.
func (l *lexer) syntaxError(msg string) error {
	if l.atEnd() {
		return &syntaxError{l.position(l.offset()) + ": unexpected end of input"}
	}
	return &syntaxError{l.position(l.offset()) + ": " + msg}
}

func (l *lexer) unexpected(want string) error {
	if l.atEnd() {
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
	// The key is kept in the window while the colon is looked for, which may move it.
	start := l.offset() + 1
	defer l.resetMark(l.setMark(start))
	k, inWindow, err := l.string()
	if err != nil {
		return nil, err
	}
	if l.peek() != ':' {
		return nil, l.unexpected("':' after object key")
	}
	l.pos++
	if inWindow {
		k = l.window(start, len(k))
	}
	return k, nil
}

// window returns the n bytes of input from offset off, which a mark has kept.
func (l *lexer) window(off, n int) []byte {
	if l.in != nil {
		off -= l.in.base
	}
	return l.data[off : off+n]
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
	b, _, err := l.string()
	return b, err
}

// string is str, and reports whether the contents are a slice of the window.
func (l *lexer) string() (b []byte, inWindow bool, err error) {
	if l.peek() != '"' {
		return nil, false, l.unexpected("a string")
	}
	// from is where to look on from, counted from pos, after the window moves.
	from := 1
	for {
		end := bytes.IndexByte(l.data[l.pos+from:], '"')
		if end >= 0 {
			start, end := l.pos+1, l.pos+from+end
			if raw := l.data[start:end]; bytes.IndexByte(raw, '\\') < 0 && plain(raw) {
				l.pos = end + 1
				return raw, true, nil
			}
			break
		}
		from = len(l.data) - l.pos
		if !l.more() {
			l.pos = len(l.data)
			return nil, false, l.syntaxError("")
		}
	}
	// Escapes, control characters or invalid UTF-8: find the real end, and let
	// encoding/json unescape, reject control characters and replace invalid UTF-8.
	end := l.pos + 1
	for {
		for ; end < len(l.data) && l.data[end] != '"'; end++ {
			if l.data[end] == '\\' {
				end++
			}
		}
		if end < len(l.data) {
			break
		}
		rel := end - l.pos
		if !l.more() {
			l.pos = len(l.data)
			return nil, false, l.syntaxError("")
		}
		end = l.pos + rel
	}
	var s string
	if err := json.Unmarshal(l.data[l.pos:end+1], &s); err != nil {
		return nil, false, l.syntaxError("invalid escape in string")
	}
	l.pos = end + 1
	return []byte(s), false, nil
}

// plain reports whether a string's raw bytes need no decoding: no control characters, and
// valid UTF-8.
func plain(b []byte) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	// Eight bytes at a time: whether any is 0x80 or over (not ASCII), or under 0x20.
	var over, under uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		over |= w
		under |= (w - 0x20*ones) &^ w
	}
	if (over|under)&highs == 0 {
		for _, c := range b[i:] {
			if c < 0x20 || c >= utf8.RuneSelf {
				return plainSlow(b)
			}
		}
		return true
	}
	return plainSlow(b)
}

// plainSlow is plain a byte at a time.
func plainSlow(b []byte) bool {
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
	for {
		if b, done, err := l.scanNumber(); done {
			return b, err
		}
		l.more() // reads more, or finds the end of the input
	}
}

// scanNumber reads the number at pos. It is not done when the number reaches the end of
// the window and the stream may hold more of it.
func (l *lexer) scanNumber() (b []byte, done bool, err error) {
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
	if i == len(d) && l.in != nil && !l.in.eof {
		return nil, false, nil
	}
	if !ok {
		return nil, true, l.syntaxError("invalid number")
	}
	l.pos = i
	return d[start:i], true, nil
}

// literal reads the literal word (null, true or false).
func (l *lexer) literal(word string) error {
	l.peek()
	for len(l.data)-l.pos < len(word) && l.more() {
	}
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
