package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/pins"
)

// pinsFetchTimeout bounds reading pins from a server: a plan must not hang on it.
const pinsFetchTimeout = 30 * time.Second

// maxPinsBody bounds a server's answer: 100,000 pins take about 30 MB.
const maxPinsBody = 64 << 20

// loadPins reads pinned digests from a pin store (sqlite://…, postgres://…), a shipshape
// server (http(s)://…, token from SHIPSHAPE_API_TOKEN), or a file: the JSON "pin list -o json"
// prints, or one digest per line. Each digest maps to where it was pinned, for reasons.
func loadPins(ctx context.Context, env IO, src string) (map[string]string, error) {
	var list []pins.Pin
	switch {
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		var err error
		if list, err = fetchPins(ctx, env, src); err != nil {
			return nil, fmt.Errorf("reading pins from %s: %w", src, err)
		}
	case strings.Contains(src, "://"):
		st, err := openPinStore(ctx, src)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		if list, err = st.List(ctx); err != nil {
			return nil, fmt.Errorf("reading pins: %w", err)
		}
	default:
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("reading pins: %w", err)
		}
		if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '[' || t[0] == '{') {
			if list, err = decodePins(t); err != nil {
				return nil, fmt.Errorf("%s: %w", src, err)
			}
			break
		}
		out := map[string]string{}
		if err := config.ReadDigests(bytes.NewReader(data), src, out); err != nil {
			return nil, err
		}
		return out, nil
	}
	out := make(map[string]string, len(list))
	for _, p := range list {
		why := "pin " + p.Name
		if p.SourceSHA != "" {
			why += " @ " + p.SourceSHA[:min(len(p.SourceSHA), 12)]
		}
		out[p.Digest] = why
	}
	return out, nil
}

// decodePins accepts a JSON array of pins, or an object holding one under "pins".
func decodePins(data []byte) ([]pins.Pin, error) {
	var list []pins.Pin
	if data[0] == '[' {
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("decoding pins: %w", err)
		}
		return list, nil
	}
	var wrapped struct {
		Pins []pins.Pin `json:"pins"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("decoding pins: %w", err)
	}
	return wrapped.Pins, nil
}

func fetchPins(ctx context.Context, env IO, base string) ([]pins.Pin, error) {
	ctx, cancel := context.WithTimeout(ctx, pinsFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/v1/pins", nil)
	if err != nil {
		return nil, err
	}
	if tok := env.Getenv("SHIPSHAPE_API_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPinsBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxPinsBody {
		return nil, fmt.Errorf("answer larger than %d bytes", maxPinsBody)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty answer")
	}
	return decodePins(bytes.TrimSpace(body))
}
