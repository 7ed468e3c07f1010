// Package redact hides the passwords and tokens in connection strings and URLs before they
// reach an error message, a log line or a terminal.
package redact

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask replaces every secret.
const Mask = "xxxxx"

// minSecret is the length under which a secret is not replaced inside an error message:
// replacing every "ab" would mangle the message, and leaving it would leak the secret, so
// Error withholds the whole message instead.
const minSecret = 4

// withheld replaces an error message that still holds a secret too short to replace; %s
// is the redacted DSN.
const withheld = "%s: details withheld, the error may show part of the password"

// DSN returns s with its secrets replaced by Mask. s is a connection string or a URL:
//
//   - URL form (postgres://user:pass@host/db, https://user:token@host): the password of
//     the userinfo, and the values of the password and sslpassword query parameters. A
//     userinfo with no password is a token ("https://token@host") and is masked whole,
//     except in postgres:// and postgresql:// URLs, where it is the user name.
//   - keyword/value form (host=db user=app password=secret): the values of password and
//     sslpassword, quoted ('se cret') or not.
//
// Malformed URLs are masked generously: a password holding an unescaped '@', '/' or '?'
// is still hidden, at the cost of hiding more than the password.
func DSN(s string) string {
	spans := secrets(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(Mask)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// Error returns err with the secrets of dsn hidden in its message, for errors of code that
// may quote a connection string or parts of it (pgx does, redacting on a best-effort
// basis). The result wraps err, for errors.Is and errors.As; nil stays nil.
func Error(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if dsn != "" {
		msg = strings.ReplaceAll(msg, dsn, DSN(dsn))
	}
	for _, sec := range values(dsn) {
		if !strings.Contains(msg, sec) {
			continue
		}
		if len(sec) < minSecret {
			msg = fmt.Sprintf(withheld, DSN(dsn))
			break
		}
		msg = strings.ReplaceAll(msg, sec, Mask)
	}
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// span is the byte range [start, end) of a secret in a string.
type span struct{ start, end int }

// secrets returns the sorted, disjoint spans of the secrets in s.
func secrets(s string) []span {
	var spans []span
	if i := strings.Index(s, "://"); i >= 0 && !strings.ContainsAny(s[:i], " \t\r\n=") {
		spans = urlSecrets(s, i+len("://"))
	} else {
		spans = keywordSecrets(s)
	}
	return merge(spans)
}

// splitters are the characters at which a parser may split a password it misreads, and
// show the parts as a host, a path or another keyword: an unescaped '@', '/', '?' or '#'
// in a URL, a blank in a quoted keyword value.
const splitters = "@/?# \t\r\n"

// values returns the secrets of dsn as they may appear in a message: as written,
// percent-decoded and unquoted, and the parts of a password holding one of the splitters.
// Longest first, so that a secret is replaced before a part of it.
func values(dsn string) []string {
	var out []string
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, sp := range secrets(dsn) {
		raw := dsn[sp.start:sp.end]
		forms := []string{raw, unquote(raw)}
		if dec, err := url.PathUnescape(raw); err == nil {
			forms = append(forms, dec)
		}
		for _, v := range forms {
			add(v)
			if strings.ContainsAny(v, splitters) {
				for _, part := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(splitters, r) }) {
					add(part)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// urlSecrets finds the secrets of the URL s whose authority starts at off.
func urlSecrets(s string, off int) []span {
	var spans []span
	rest := s[off:]
	userEnd := -1 // index in rest of the '@' that ends the userinfo, as far as anyone reads it
	// As net/url reads it: the last '@' of the authority, which ends at the first '/', '?'
	// or '#'.
	auth := rest
	if i := strings.IndexAny(auth, "/?#"); i >= 0 {
		auth = auth[:i]
	}
	goAt := strings.LastIndexByte(auth, '@')
	userEnd = max(userEnd, goAt)
	// As pgx reads it: the first '@', if no '/' comes before it.
	if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
		userEnd = max(userEnd, i)
	}
	// A malformed URL may hide a password holding '/', '?', '#' or '@' anywhere up to its
	// last '@': mask from the first ':' to that '@'.
	if _, err := url.Parse(s); err != nil || (goAt >= 0 && !validUserinfo(auth[:goAt])) {
		if at := strings.LastIndexByte(rest, '@'); at > userEnd {
			userEnd = at
		}
	}
	if userEnd >= 0 {
		userinfo := rest[:userEnd]
		if colon := strings.IndexByte(userinfo, ':'); colon >= 0 {
			if colon+1 < userEnd {
				spans = append(spans, span{off + colon + 1, off + userEnd})
			}
		} else if scheme := strings.ToLower(s[:off-len("://")]); scheme != "postgres" && scheme != "postgresql" && userEnd > 0 {
			spans = append(spans, span{off, off + userEnd})
		}
	}
	// The query: every '&'-separated pair after the first '?' that follows the userinfo.
	q := strings.IndexByte(rest[userEnd+1:], '?')
	if q < 0 {
		return spans
	}
	pos := off + userEnd + 1 + q + 1
	for _, pair := range strings.Split(s[pos:], "&") {
		key, _, hasValue := strings.Cut(pair, "=")
		if hasValue && isPasswordKey(key) && len(key)+1 < len(pair) {
			spans = append(spans, span{pos + len(key) + 1, pos + len(pair)})
		}
		pos += len(pair) + 1
	}
	return spans
}

// validUserinfo reports whether net/url would accept u as the userinfo of a URL.
func validUserinfo(u string) bool {
	for _, r := range u {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case strings.ContainsRune("-._~!$&'()*+,;=:%", r):
		default:
			return false
		}
	}
	return true
}

// isPasswordKey reports whether the query key k, percent-decoded, names a password.
func isPasswordKey(k string) bool {
	if dec, err := url.QueryUnescape(k); err == nil {
		k = dec
	}
	k = strings.ToLower(strings.TrimSpace(k))
	return k == "password" || k == "sslpassword"
}

// keywordRE finds the start of a password value in a keyword/value connection string;
// libpq and pgx allow blanks around '='.
var keywordRE = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_])(?:ssl)?password[ \t\r\n]*=[ \t\r\n]*`)

// keywordSecrets finds the password values of a keyword/value connection string: up to
// the next blank, or a quoted value with backslash escapes, up to its closing quote (or the
// end of s when it has none).
func keywordSecrets(s string) []span {
	var spans []span
	for _, m := range keywordRE.FindAllStringIndex(s, -1) {
		start, end := m[1], m[1]
		if end < len(s) && s[end] == '\'' {
			end++
			for end < len(s) && s[end] != '\'' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			end = min(end+1, len(s))
		} else {
			for end < len(s) && !strings.ContainsRune(" \t\r\n", rune(s[end])) {
				end++
			}
		}
		if end > start {
			spans = append(spans, span{start, end})
		}
	}
	return spans
}

// unquote removes the quotes and backslash escapes of a quoted keyword value.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '\'' {
		return v
	}
	v = strings.TrimSuffix(v[1:], "'")
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// merge sorts spans and joins those that overlap.
func merge(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var out []span
	for _, sp := range spans {
		if n := len(out); n > 0 && sp.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}
