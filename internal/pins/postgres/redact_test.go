package postgres

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestOpenErrorsHidePassword opens stores whose DSN pgx cannot parse or connect with:
// no error may show the password, in any of the forms a DSN writes it.
func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const pw = "Hunter2Secret"
	tests := []struct {
		name, dsn string
		secrets   []string // parts of the password that must not appear
	}{
		{name: "URLBadPort", dsn: "postgres://app:" + pw + "@127.0.0.1:notaport/pins"},
		{name: "URLBadParameter", dsn: "postgres://app:" + pw + "@127.0.0.1/pins?pool_max_conns=many"},
		{name: "URLBadSSLMode", dsn: "postgres://app:" + pw + "@127.0.0.1/pins?sslmode=sometimes"},
		{name: "URLRefused", dsn: "postgres://app:" + pw + "@127.0.0.1:1/pins?connect_timeout=5"},
		{name: "URLPasswordWithAt", dsn: "postgres://app:Hunter2@Secret@127.0.0.1:1/pins?connect_timeout=5", secrets: []string{"Hunter2", "Secret"}},
		{name: "URLPasswordWithSlash", dsn: "postgres://app:Hunter2/Secret@127.0.0.1:1/pins", secrets: []string{"Hunter2", "Secret"}},
		{name: "URLAtInQuery", dsn: "postgres://app:" + pw + "@127.0.0.1:1/pins?application_name=a@b&connect_timeout=5"},
		{name: "URLQueryPassword", dsn: "postgres://app@127.0.0.1:1/pins?password=" + pw + "&sslmode=bogus"},
		{name: "URLQueryPasswordWithAt", dsn: "postgres://app@127.0.0.1:1/pins?sslmode=bogus&password=Hunter2@Secret", secrets: []string{"Hunter2", "Secret"}},
		{name: "KeywordBadPort", dsn: "host=127.0.0.1 port=notaport user=app password=" + pw + " dbname=pins"},
		{name: "KeywordQuoted", dsn: "host=127.0.0.1 port=notaport user=app password='Hunter2 Secret' dbname=pins", secrets: []string{"Hunter2", "Secret"}},
		{name: "KeywordUnterminatedQuote", dsn: "host=127.0.0.1 user=app password='Hunter2 Secret", secrets: []string{"Hunter2", "Secret"}},
		{name: "KeywordRefused", dsn: "host=127.0.0.1 port=1 user=app password=" + pw + " dbname=pins connect_timeout=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{pw}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			for name, open := range map[string]func(context.Context, string) (*Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
				s, err := open(ctx, tt.dsn)
				if err == nil {
					s.Close()
					t.Fatalf("%s() succeeded, want an error", name)
				}
				for _, sec := range secrets {
					if strings.Contains(err.Error(), sec) {
						t.Errorf("%s() error = %q, shows %q of the password", name, err, sec)
					}
				}
			}
		})
	}
}
