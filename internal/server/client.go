package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/redact"
)

// maxResponseBytes bounds a response the Client reads: a list of 100,000 pins (about 30 MB),
// or a long history, fits within it.
const maxResponseBytes = 64 << 20

// maxRedirects bounds the redirects a client follows, as net/http's default policy does.
const maxRedirects = 10

// Client is a pins.Store served by a shipshape server. Its errors are *Error for every
// response the server refused; they wrap pins.ErrNotFound and pins.ErrConflict.
type Client struct {
	base  string
	token string
	http  *http.Client
}

var _ pins.Store = (*Client)(nil)

// NewClient returns a client of the server at baseURL ("https://pins.example.com"),
// authenticating with token; hc nil means http.DefaultClient. The client uses a copy of
// hc with CheckRedirect as its redirect policy.
func NewClient(baseURL, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want http(s)://host[:port]", redact.DSN(baseURL))
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	own := *hc
	own.CheckRedirect = CheckRedirect
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: &own}, nil
}

// CheckRedirect is the redirect policy of clients of a shipshape server, for
// http.Client.CheckRedirect: it follows up to 10 redirects, and keeps the Authorization
// header only while every request of the chain goes to the origin (scheme, host and port)
// of the first. net/http alone would send the header on to another port or scheme of the
// same host, and to its subdomains.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	origin := via[0].URL
	leaves := !sameOrigin(req.URL, origin)
	for _, r := range via[1:] {
		leaves = leaves || !sameOrigin(r.URL, origin)
	}
	if leaves {
		req.Header.Del("Authorization")
	}
	return nil
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// port returns the port of u, or the default port of its scheme.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// Set implements pins.Store: PUT /v1/pins/{name}. The server records the token's name as
// UpdatedBy, and the verification outcome.
func (c *Client) Set(ctx context.Context, p pins.Pin, expected string) (pins.Pin, error) {
	var out pins.Pin
	req := PutRequest{Repository: p.Repository, Digest: p.Digest, SourceSHA: p.SourceSHA, ExpectedDigest: expected}
	err := c.do(ctx, http.MethodPut, pinPath(p.Name), req, &out)
	return out, err
}

// Get implements pins.Store.
func (c *Client) Get(ctx context.Context, name string) (pins.Pin, error) {
	var out pins.Pin
	err := c.do(ctx, http.MethodGet, pinPath(name), nil, &out)
	return out, err
}

// List implements pins.Store.
// List reads every pin. The answer must be exactly what a shipshape server sends
// (pins.DecodeList): pins protect images, so anything else is an error, never "no pins".
func (c *Client) List(ctx context.Context) ([]pins.Pin, error) {
	var raw []byte
	if err := c.do(ctx, http.MethodGet, "/v1/pins", nil, &raw); err != nil {
		return nil, err
	}
	list, err := pins.DecodeList(raw)
	if err != nil {
		return nil, fmt.Errorf("GET /v1/pins: %w; want {\"pins\": [...]} as a shipshape server answers GET /v1/pins", err)
	}
	return list, nil
}

// History implements pins.Store.
func (c *Client) History(ctx context.Context, name string) ([]pins.Change, error) {
	var out HistoryResponse
	err := c.do(ctx, http.MethodGet, pinPath(name)+"/history", nil, &out)
	return out.Changes, err
}

// Delete implements pins.Store. The server records the token's name, not by.
func (c *Client) Delete(ctx context.Context, name, by string) error {
	return c.do(ctx, http.MethodDelete, pinPath(name), nil, nil)
}

// Close implements pins.Store; it has nothing to release.
func (c *Client) Close() error { return nil }

// pinPath escapes name as one path segment: a '/' in it becomes %2F.
func pinPath(name string) string { return "/v1/pins/" + url.PathEscape(name) }

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// net/http's errors quote the URL, hiding a password but not a token written as the
		// user name (https://TOKEN@host).
		return fmt.Errorf("%s %s: %w", method, path, redact.Error(err, c.base))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading response: %w", method, path, err)
	}
	if len(b) > maxResponseBytes {
		return fmt.Errorf("%s %s: the answer is larger than %d bytes", method, path, maxResponseBytes)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error *Error `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == nil {
			e.Error = &Error{Message: fmt.Sprintf("%s %s: %s", method, path, resp.Status)}
		}
		e.Error.Status = resp.StatusCode
		if e.Error.Code == "" && resp.StatusCode == http.StatusNotFound {
			e.Error.Code = CodeNotFound
		}
		return e.Error
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decoding response: %w", method, path, err)
	}
	return nil
}
