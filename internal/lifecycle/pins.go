package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// pinsFileFormats names the forms of a pins file, in errors.
const pinsFileFormats = `want the {"pins": [...]} that "shipshape pin list -o json" prints, a JSON array of pins, or one digest a line ('#' starts a comment)`

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
		c, err := server.NewClient(src, token, &http.Client{Timeout: pinsFetchTimeout})
		if err == nil {
			list, err = c.List(ctx)
		}
		if se, ok := errors.AsType[*server.Error](err); ok && se.Status != 0 {
			err = fmt.Errorf("the server answered %d: %w", se.Status, err)
		}
		if err != nil {
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
