package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		secret         []string // must not appear in the output
	}{
		{name: "URLPassword", in: "postgres://app:s3cret@db:5432/pins?sslmode=disable",
			want: "postgres://app:xxxxx@db:5432/pins?sslmode=disable", secret: []string{"s3cret"}},
		{name: "URLNoPassword", in: "postgres://app@db/pins", want: "postgres://app@db/pins"},
		{name: "URLNoUserinfo", in: "postgres://db:5432/pins", want: "postgres://db:5432/pins"},
		{name: "PasswordWithAt", in: "postgres://app:p@ss@db/pins",
			want: "postgres://app:xxxxx@db/pins", secret: []string{"p@ss"}},
		{name: "PasswordWithSlash", in: "postgres://app:pa/ss@db/pins",
			want: "postgres://app:xxxxx@db/pins", secret: []string{"pa/ss"}},
		{name: "PasswordWithQuestionMark", in: "postgres://app:1234?x@db/pins",
			want: "postgres://app:xxxxx@db/pins", secret: []string{"1234?x"}},
		{name: "PasswordWithColons", in: "postgres://a@u:sec:ret@h/pins", secret: []string{"sec:ret"}},
		{name: "EscapedPassword", in: "postgres://app:se%40cret@db/pins",
			want: "postgres://app:xxxxx@db/pins", secret: []string{"se%40cret"}},
		{name: "AtInQuery", in: "postgres://app:secret@db/pins?application_name=a@b",
			want: "postgres://app:xxxxx@db/pins?application_name=a@b", secret: []string{"secret"}},
		{name: "AtInQueryNoPath", in: "postgres://app:secret@db?application_name=a@b", secret: []string{"secret"}},
		{name: "AtInQueryNoUserinfo", in: "postgres://db:5432/pins?application_name=a@b",
			want: "postgres://db:5432/pins?application_name=a@b"},
		{name: "QueryPassword", in: "postgres://app@db/pins?password=secret&sslmode=disable",
			want: "postgres://app@db/pins?password=xxxxx&sslmode=disable", secret: []string{"secret"}},
		{name: "QueryPasswordWithAt", in: "postgres://db/pins?sslmode=disable&password=sec@ret",
			want: "postgres://db/pins?sslmode=disable&password=xxxxx", secret: []string{"sec@ret"}},
		{name: "QuerySSLPassword", in: "postgresql://app@db/pins?sslpassword=secret",
			want: "postgresql://app@db/pins?sslpassword=xxxxx", secret: []string{"secret"}},
		{name: "QueryPasswordEncodedKey", in: "postgres://app@db/pins?pass%77ord=secret",
			want: "postgres://app@db/pins?pass%77ord=xxxxx", secret: []string{"secret"}},
		{name: "QueryAndUserinfo", in: "postgres://app:one@db/pins?password=two",
			want: "postgres://app:xxxxx@db/pins?password=xxxxx", secret: []string{"one", "two"}},
		{name: "Keyword", in: "host=db user=app password=secret dbname=pins",
			want: "host=db user=app password=xxxxx dbname=pins", secret: []string{"secret"}},
		{name: "KeywordQuoted", in: "host=db password='se cret' dbname=pins",
			want: "host=db password=xxxxx dbname=pins", secret: []string{"se", "cret"}},
		{name: "KeywordQuotedEscapes", in: `host=db password='it\'s se\\cret' dbname=pins`,
			want: "host=db password=xxxxx dbname=pins", secret: []string{"it", "cret"}},
		{name: "KeywordUnterminatedQuote", in: "host=db password='se cret", want: "host=db password=xxxxx"},
		{name: "KeywordBlanksAroundEquals", in: "host=db password = secret dbname=pins",
			want: "host=db password = xxxxx dbname=pins", secret: []string{"secret"}},
		{name: "KeywordFirst", in: "password=secret host=db", want: "password=xxxxx host=db"},
		{name: "KeywordSSLPassword", in: "host=db sslpassword=secret", want: "host=db sslpassword=xxxxx"},
		{name: "KeywordOtherKey", in: "host=db mypassword=x", want: "host=db mypassword=x"},
		{name: "HTTPToken", in: "https://ci:tok3n@pins.example.com/", want: "https://ci:xxxxx@pins.example.com/"},
		{name: "HTTPTokenAsUser", in: "https://tok3n@pins.example.com", want: "https://xxxxx@pins.example.com"},
		{name: "HTTPNoUserinfo", in: "https://pins.example.com:8443/v1", want: "https://pins.example.com:8443/v1"},
		{name: "SQLite", in: "sqlite:///var/lib/a:b@c/pins.db", want: "sqlite:///var/lib/a:b@c/pins.db"},
		{name: "Path", in: "pins.json", want: "pins.json"},
		{name: "Empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := DSN(tt.in)
			if tt.want != "" && got != tt.want {
				t.Errorf("DSN(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, s := range tt.secret {
				if strings.Contains(got, s) {
					t.Errorf("DSN(%q) = %q, shows %q", tt.in, got, s)
				}
			}
		})
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dsn, msg, want string
	}{
		{name: "WholeDSN", dsn: "postgres://app:s3cret@db/pins", msg: "cannot parse `postgres://app:s3cret@db/pins`: bad",
			want: "cannot parse `postgres://app:xxxxx@db/pins`: bad"},
		{name: "Password", dsn: "host=db password='se cret'", msg: "auth failed for se cret", want: "auth failed for xxxxx"},
		{name: "Decoded", dsn: "postgres://app:se%40cret@db/pins", msg: "password se@cret rejected", want: "password xxxxx rejected"},
		{name: "PartAsHost", dsn: "postgres://app:pass@word@db/pins", msg: "lookup word@db: no such host", want: "lookup xxxxx@db: no such host"},
		{name: "ShortSecret", dsn: "postgres://app:ab@db/pins", msg: "table abc missing", want: "postgres://app:xxxxx@db/pins: details withheld, the error may show part of the password"},
		{name: "NoSecret", dsn: "postgres://app@db/pins", msg: "connection refused", want: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cause := fmt.Errorf("%s: %w", tt.msg, fs.ErrNotExist)
			err := Error(cause, tt.dsn)
			want := tt.want
			if !strings.Contains(want, "withheld") {
				want += ": " + fs.ErrNotExist.Error()
			}
			if err.Error() != want {
				t.Errorf("Error() = %q, want %q", err, want)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Error() = %v, want it to wrap fs.ErrNotExist", err)
			}
		})
	}
	if Error(nil, "postgres://a:b@c/d") != nil {
		t.Error("Error(nil) != nil")
	}
}
