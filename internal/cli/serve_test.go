package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shipshape-dev/shipshape/internal/pins"
)

// buildShipshape builds the shipshape binary into a temporary directory.
func buildShipshape(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shipshape")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/shipshape").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var servingRE = regexp.MustCompile(`serving pins on (http://\S+)`)

// startServe runs `shipshape serve` on a free loopback port with a fresh SQLite store,
// and returns its URL and a function that stops it with SIGTERM and returns its exit error.
func startServe(t *testing.T, bin string, env []string, args ...string) (string, func() error) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--store", "sqlite://" + filepath.Join(dir, "pins.db")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	found := make(chan string, 1)
	var log bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
			log.WriteString(sc.Text() + "\n")
		}
	}()
	var url string
	select {
	case url = <-found:
	case <-done:
		_ = cmd.Wait()
		t.Fatalf("serve exited before listening:\n%s", log.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("serve printed no address in 20s")
	}
	stop := func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return err
		}
		<-done
		return cmd.Wait()
	}
	return url, stop
}

// TestServeEndToEnd starts the real binary, sends the pipeline's request to the
// compatibility route and reads the pin back with `shipshape pin get --server`.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildShipshape(t)
	const token = "e2e-token-0123456789"
	url, stop := startServe(t, bin, []string{"SHIPSHAPE_API_TOKEN=" + token})

	dgst := "sha256:" + strings.Repeat("ab", 32)
	sha := strings.Repeat("c0ffee12", 5)
	// What the pipeline sends:
	//   curl -fsS -X POST "$URL/cp/admin/runtime-image-pins" -H "Authorization: Bearer $TOKEN" \
	//     -H 'Content-Type: application/json' -d '{"runtime": …, "digest": …, "source_sha": …}'
	body := fmt.Sprintf(`{"runtime": "python-3.12", "digest": %q, "source_sha": %q}`, dgst, sha)
	req, _ := http.NewRequest("POST", url+"/cp/admin/runtime-image-pins", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /cp/admin/runtime-image-pins = %d %s, want 200", resp.StatusCode, b)
	}

	get := exec.Command(bin, "pin", "get", "python-3.12", "--server", url, "-o", "json")
	get.Env = append(os.Environ(), "SHIPSHAPE_API_TOKEN="+token)
	out, err := get.Output()
	if err != nil {
		t.Fatalf("pin get: %v", err)
	}
	var got pins.Pin
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("pin get output %q: %v", out, err)
	}
	want := pins.Pin{Name: "python-3.12", Digest: dgst, SourceSHA: sha, UpdatedBy: "api-token", Version: 1}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(pins.Pin{}, "UpdatedAt")); diff != "" {
		t.Errorf("pin get (-want +got):\n%s", diff)
	}

	// Without the token the same request is refused.
	resp, err = http.Post(url+"/cp/admin/runtime-image-pins", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a token = %d, want 401", resp.StatusCode)
	}

	if err := stop(); err != nil {
		t.Errorf("serve after SIGTERM: %v, want exit 0", err)
	}
}

func TestServeRefusesToStart(t *testing.T) {
	t.Parallel()
	store := "sqlite://" + filepath.Join(t.TempDir(), "pins.db")
	badTokens := writeFile(t, "tokens", "ci admin secret\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"no token", nil, nil, 1, "no API token configured"},
		{"bad mode", map[string]string{"SHIPSHAPE_API_TOKEN": "x"}, []string{"--verify", "strict"}, 2, "--verify"},
		{"bad token file", nil, []string{"--token-file", badTokens}, 1, "tokens:1: the scope (second field) is not read or write"},
		{"store without a scheme", map[string]string{"SHIPSHAPE_API_TOKEN": "x"}, []string{"--store", "pins.db"}, 1, "sqlite://PATH"},
		{"missing token file", nil, []string{"--token-file", filepath.Join(t.TempDir(), "none")}, 1, "opening token file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tt.env, "", append([]string{"serve", "--listen", "127.0.0.1:0", "--store", store}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.err, tt.msg) {
				t.Errorf("serve = %d %q, want %d with %q", r.code, r.err, tt.code, tt.msg)
			}
			if strings.Contains(r.err, "secret") {
				t.Errorf("serve printed a token: %q", r.err)
			}
		})
	}
}
