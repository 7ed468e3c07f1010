package lifecycle

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/pins"
	pinstore "github.com/shipshape-dev/shipshape/internal/pins/store"
	"github.com/shipshape-dev/shipshape/internal/redact"
	"github.com/shipshape-dev/shipshape/internal/server"
)

// pinsFetchTimeout bounds reading pins from a server: a plan must not hang on it.
const pinsFetchTimeout = 30 * time.Second

// maxPinsBody bounds a server's answer: 100,000 pins take about 30 MB.
const maxPinsBody = 64 << 20

// maxErrorBody bounds how much of a server's error answer an error message quotes.
const maxErrorBody = 512

// Where the forms of a pins file and of a server's answer are named, in errors.
const (
	pinsFileFormats = `want the {"pins": [...]} that "shipshape pin list -o json" prints, a JSON array of pins, or one digest a line ('#' starts a comment)`
	pinsBodyFormat  = `want {"pins": [...]} as a shipshape server answers GET /v1/pins`
)

// LoadPins reads pinned digests from a pin store (sqlite://…, postgres://…), a shipshape
// server (http(s)://…, with token as its bearer token), or a file: the JSON "pin list -o json"
// prints, or one digest per line. Each digest maps to where it was pinned, for reasons.
//
// The pins protect images from deletion, so a source that cannot be read completely is an
// error, never "no pins": a store that does not exist (it is opened read-only, never
// created), a file or answer in another form, an error response, an empty file.
func LoadPins(ctx context.Context, src, token string) (map[string]string, error) {
	var list []pins.Pin
	switch {
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		var err error
		if list, err = fetchPins(ctx, token, src); err != nil {
			return nil, fmt.Errorf("reading pins from %s: %w", redact.DSN(src), err)
		}
	case strings.Contains(src, "://"):
		st, err := pinstore.OpenReadOnly(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("reading pins: %w", err)
		}
		defer st.Close()
		if list, err = st.List(ctx); err != nil {
			return nil, fmt.Errorf("reading pins from %s: %w", redact.DSN(src), redact.Error(err, src))
		}
	default:
		return readPinsFile(src)
	}
	return pinReasons(list), nil
}

// readPinsFile reads the pins file at path.
func readPinsFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil { // a connection string given for a file shows in the error: redact it
		return nil, fmt.Errorf("reading pins: %w", redact.Error(err, path))
	}
	text := bytes.TrimSpace(data)
	switch {
	case len(text) == 0:
		return nil, fmt.Errorf("no pins in %s: the file is empty; if no digest is pinned, write [] or a comment line (# no pins)", path)
	case text[0] == '[' || text[0] == '{':
		list, err := pins.DecodeList(text)
		if err != nil {
			return nil, fmt.Errorf("reading pins from %s: %w; %s", path, err, pinsFileFormats)
		}
		return pinReasons(list), nil
	}
	out := map[string]string{}
	if err := config.ReadDigests(bytes.NewReader(data), path, out); err != nil {
		return nil, fmt.Errorf("reading pins: %w; %s", err, pinsFileFormats)
	}
	return out, nil
}

// pinReasons maps each pinned digest to the pin that holds it, for reasons.
func pinReasons(list []pins.Pin) map[string]string {
	out := make(map[string]string, len(list))
	for _, p := range list {
		why := "pin " + p.Name
		if p.SourceSHA != "" {
			why += " @ " + p.SourceSHA[:min(len(p.SourceSHA), 12)]
		}
		out[p.Digest] = why
	}
	return out
}

// fetchPins reads GET /v1/pins of the server at base. Its errors never show credentials of
// base, and the token goes along only to base's origin, whatever the server redirects to.
func fetchPins(ctx context.Context, token, base string) ([]pins.Pin, error) {
	ctx, cancel := context.WithTimeout(ctx, pinsFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/v1/pins", nil)
	if err != nil {
		return nil, redact.Error(err, base)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := &http.Client{CheckRedirect: server.CheckRedirect}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, redact.Error(err, base)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPinsBody+1))
	if err != nil {
		return nil, redact.Error(err, base)
	}
	if len(body) > maxPinsBody {
		return nil, fmt.Errorf("answer larger than %d bytes", maxPinsBody)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if len(msg) > maxErrorBody {
			msg = strings.ToValidUTF8(msg[:maxErrorBody], "") + "…"
		}
		return nil, fmt.Errorf("%s: %s", resp.Status, msg)
	}
	list, err := pins.DecodeList(body)
	if err != nil {
		return nil, fmt.Errorf("%w; %s", err, pinsBodyFormat)
	}
	return list, nil
}
