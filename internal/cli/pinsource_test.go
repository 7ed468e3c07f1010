package cli_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// planWithPins runs an offline plan of the example repository with --pins src.
func planWithPins(t *testing.T, env map[string]string, src string) result {
	t.Helper()
	return run(t, env, "", "plan", "--policy", examplePolicy, "--images", exampleImages, "--now", exampleNow, "-o", "json", "--pins", src)
}

// formats is a part of the error naming the forms a pins file may take.
const formats = `want the {"pins": [...]} that "shipshape pin list -o json" prints, a JSON array of pins, or one digest a line`

// TestPinsFileFailsClosed gives plan pins files it cannot read completely: each is an error
// naming the file, never a plan without pins.
func TestPinsFileFailsClosed(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name, text string
		want       []string // parts of the error; FILE stands for the file's path
	}{
		{name: "ErrorResponse", text: `{"error":{"code":"unauthorized","message":"x"}}`,
			want: []string{"reading pins from FILE: the source returned an error response, not pins: unauthorized: x", formats}},
		{name: "WrongKey", text: `{"pin": [{"name": "api", "digest": "` + digest + `"}]}`,
			want: []string{`reading pins from FILE: unknown key "pin"`, formats}},
		{name: "UnknownShape", text: `[{"image": "x"}]`,
			want: []string{`reading pins from FILE: [0]: unknown key "image"`, formats}},
		{name: "InvalidDigest", text: `{"pins": [{"name": "api", "digest": "sha256:abc"}]}`,
			want: []string{`reading pins from FILE: pins[0]: invalid pin: digest "sha256:abc"`, formats}},
		{name: "NoDigest", text: `[{"name": "api", "sourceSha": "` + strings.Repeat("0", 40) + `"}]`,
			want: []string{`reading pins from FILE: [0]: no "digest"`, formats}},
		{name: "TrailingGarbage", text: `{"pins": []}` + "\n<html>",
			want: []string{"reading pins from FILE: line 2, column 1: data after the JSON value", formats}},
		{name: "NotDigests", text: "<html>unauthorized</html>\n",
			want: []string{`FILE:1: not a digest`, formats}},
		{name: "Empty", text: "",
			want: []string{"no pins in FILE: the file is empty; if no digest is pinned, write [] or a comment line"}},
		{name: "Blank", text: " \n\n",
			want: []string{"no pins in FILE: the file is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "pins.json", tt.text)
			r := planWithPins(t, nil, path)
			if r.code != 1 {
				t.Fatalf("plan --pins %s = %d, want 1; stderr %q", path, r.code, r.err)
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "FILE", path); !strings.Contains(r.err, w) {
					t.Errorf("plan --pins error = %q, want it to contain %q", r.err, w)
				}
			}
		})
	}
}

// TestPinsFileEmptyLists reads pins files that say, in a documented form, that nothing is
// pinned.
func TestPinsFileEmptyLists(t *testing.T) {
	t.Parallel()
	for name, text := range map[string]string{
		"EmptyArray":   "[]\n",
		"EmptyPins":    `{"pins": []}`,
		"CommentsOnly": "# nothing is pinned\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "pins", text)
			if r := planWithPins(t, nil, path); r.code != 0 {
				t.Errorf("plan --pins (%s) = %d, want 0; stderr %q", name, r.code, r.err)
			}
		})
	}
}

// TestPinsStoreMustExist names pin stores that do not exist: plan fails and creates
// neither the file nor its directory.
func TestPinsStoreMustExist(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "nonexistent", "dir", "p.db")
	r := planWithPins(t, nil, "sqlite://"+path)
	if r.code != 1 || !strings.Contains(r.err, "no pin store at "+path) {
		t.Errorf("plan --pins sqlite://%s = %d %q, want 1 and no pin store at %s", path, r.code, r.err, path)
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexistent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("plan --pins created %s (stat: %v)", filepath.Join(dir, "nonexistent"), err)
	}
}

// TestPinsPostgresHidesPassword names a PostgreSQL store that cannot be opened: the error
// shows the DSN without its password.
func TestPinsPostgresHidesPassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://app:hunter2pw@127.0.0.1:notaport/pins",
		"postgres://app:hunter2pw@127.0.0.1:1/pins?application_name=a@b&connect_timeout=5",
		"postgres://app@127.0.0.1:1/pins?sslmode=bogus&password=hunter2pw",
	} {
		r := planWithPins(t, nil, dsn)
		if r.code != 1 || strings.Contains(r.err, "hunter2pw") || !strings.Contains(r.err, "PostgreSQL pin store") {
			t.Errorf("plan --pins %s = %d %q, want 1 and the password hidden", dsn, r.code, r.err)
		}
	}
	// A keyword/value DSN is not a --pins source: read as a file's name, it fails, hidden.
	r := planWithPins(t, nil, "host=db user=app password='hunter2 pw'")
	if r.code != 1 || strings.Contains(r.err, "hunter2") {
		t.Errorf("plan --pins with a keyword/value DSN = %d %q, want 1 and the password hidden", r.code, r.err)
	}
}

// TestPinsServerFailsClosed reads pins from servers that answer 200 with something else
// than pins: an error naming the server, without its credentials.
func TestPinsServerFailsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{name: "ErrorResponse", body: `{"error": {"code": "unauthorized", "message": "x"}}`, want: "the source returned an error response, not pins: unauthorized: x"},
		{name: "UnknownShape", body: `[{"image": "x"}]`, want: `[0]: unknown key "image"`},
		{name: "Empty", body: "", want: "empty"},
		{name: "HTML", body: "<html>login</html>", want: "not a JSON object or array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			src := strings.Replace(srv.URL, "http://", "http://ci:s3cret-tok@", 1)
			shown := strings.Replace(srv.URL, "http://", "http://ci:xxxxx@", 1)
			r := planWithPins(t, nil, src)
			if r.code != 1 {
				t.Fatalf("plan --pins %s = %d, want 1; stderr %q", shown, r.code, r.err)
			}
			for _, w := range []string{"reading pins from " + shown + ": ", tt.want, `want {"pins": [...]}`} {
				if !strings.Contains(r.err, w) {
					t.Errorf("plan --pins error = %q, want it to contain %q", r.err, w)
				}
			}
			if strings.Contains(r.err, "s3cret") {
				t.Errorf("plan --pins error = %q, shows the password", r.err)
			}
		})
	}
	r := planWithPins(t, nil, "http://s3cret-tok@127.0.0.1:1")
	if r.code != 1 || strings.Contains(r.err, "s3cret") {
		t.Errorf("plan --pins with an unreachable server = %d %q, want 1 and the token hidden", r.code, r.err)
	}
}

// TestPinsServerRedirectKeepsToken lets the pin server redirect GET /v1/pins to another
// origin (another port of 127.0.0.1): the token does not go along.
func TestPinsServerRedirectKeepsToken(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		atB []string
	)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		atB = append(atB, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte(`{"pins": []}`))
	}))
	defer b.Close()
	a := httptest.NewServer(http.RedirectHandler(b.URL+"/v1/pins", http.StatusTemporaryRedirect))
	defer a.Close()
	r := planWithPins(t, map[string]string{"SHIPSHAPE_API_TOKEN": "s3cret-tok"}, a.URL)
	if r.code != 0 {
		t.Fatalf("plan --pins %s = %d %q, want 0", a.URL, r.code, r.err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(atB) != 1 || atB[0] != "" {
		t.Errorf("the redirect target saw Authorization %q, want one request without it", atB)
	}
}

// TestPinsFromPinListJSON feeds plan what "shipshape pin list -o json" prints, every field
// of a pin set through a store included: the strict decoder accepts it.
func TestPinsFromPinListJSON(t *testing.T) {
	t.Parallel()
	r := planWithPins(t, nil, writeFile(t, "none", "# nothing pinned\n"))
	var before planJSON
	if err := json.Unmarshal([]byte(r.stdout), &before); err != nil {
		t.Fatalf("plan = %d %q", r.code, r.err)
	}
	var pinned string
	for _, it := range before.Images {
		if it.Action == "expire" && len(it.Tags) > 0 {
			pinned = it.Digest
			break
		}
	}
	store := "sqlite://" + filepath.Join(t.TempDir(), "pins.db")
	r = run(t, map[string]string{"USER": "ci"}, "", "pin", "set", "web", "--store", store, "--digest", pinned,
		"--source-sha", strings.Repeat("c", 40), "--repository", "ghcr.io/acme/web")
	if r.code != 0 {
		t.Fatalf("pin set = %d %q", r.code, r.err)
	}
	r = run(t, nil, "", "pin", "list", "--store", store, "-o", "json")
	if r.code != 0 {
		t.Fatalf("pin list = %d %q", r.code, r.err)
	}
	r = planWithPins(t, nil, writeFile(t, "pins.json", r.stdout))
	var after planJSON
	if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
		t.Fatalf("plan --pins (pin list -o json) = %d %q", r.code, r.err)
	}
	for _, it := range after.Images {
		if it.Digest == pinned && (it.Action != "keep" || !strings.Contains(it.Reason, "pin web @ cccccccccccc")) {
			t.Errorf("pinned digest in the plan: %s, %q", it.Action, it.Reason)
		}
	}
}
