package cli_test

import (
	"strings"
	"testing"
)

// TestServeHidesSecrets starts serve with a store it cannot open and with a malformed token
// file: the errors name what is wrong without showing the password or a token.
func TestServeHidesSecrets(t *testing.T) {
	t.Parallel()
	tokens := writeFile(t, "tokens", "# name scope token\nci write s3cret-a\ndashboard s3cret-b read\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "URLStore", args: []string{"--store", "postgres://app:s3cret-pw@127.0.0.1:notaport/pins"}, want: "postgres://app:xxxxx@127.0.0.1:notaport/pins"},
		{name: "QueryPassword", args: []string{"--store", "postgres://app@127.0.0.1/pins?sslmode=bogus&password=s3cret-pw"}, want: "password=xxxxx"},
		{name: "PasswordWithAt", args: []string{"--store", "postgres://app:s3cret@pw@127.0.0.1:1/pins?connect_timeout=5"}, want: "postgres://app:xxxxx@127.0.0.1:1/pins"},
		{name: "UnknownScheme", args: []string{"--store", "mysql://app:s3cret-pw@db/pins"}, want: `"mysql://app:xxxxx@db/pins": unknown scheme`},
		{name: "TokenFile", args: []string{"--token-file", tokens}, want: tokens + ":3: the scope (second field) is not read or write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, map[string]string{"SHIPSHAPE_API_TOKEN": "s3cret-env"}, "", append([]string{"serve", "--listen", "127.0.0.1:0"}, tt.args...)...)
			if r.code != 1 || !strings.Contains(r.err, tt.want) {
				t.Errorf("serve %s = %d %q, want 1 and %q", strings.Join(tt.args, " "), r.code, r.err, tt.want)
			}
			if strings.Contains(r.err, "s3cret") {
				t.Errorf("serve %s error %q shows a secret", strings.Join(tt.args, " "), r.err)
			}
		})
	}
}

// TestPinServerURLHidden gives pin commands server URLs with credentials: errors hide them.
func TestPinServerURLHidden(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"ftp://ci:s3cret@host", "http://s3cret@127.0.0.1:1", "http://ci:s3cret@127.0.0.1:1"} {
		r := run(t, nil, "", "pin", "list", "--server", url)
		if r.code == 0 || strings.Contains(r.err, "s3cret") {
			t.Errorf("pin list --server %s = %d %q, want an error without the credential", url, r.code, r.err)
		}
	}
}
