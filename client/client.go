package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultCollection is the auth collection of PhaseFlow's users.
	DefaultCollection = "users"

	// SuperuserCollection is PocketBase's auth collection of superusers.
	SuperuserCollection = "_superusers"

	// DefaultTimeout bounds every request of the default HTTP client.
	DefaultTimeout = 30 * time.Second

	// DefaultRefreshThreshold is how close to its expiry a token is refreshed before a call.
	DefaultRefreshThreshold = 5 * time.Minute
)

// maxResponseBody bounds how much of an answer is read; PhaseFlow's answers are a few KiB.
const maxResponseBody = 4 << 20

// Client talks to one PhaseFlow server. Create it with New.
type Client struct {
	baseURL          string
	http             *http.Client
	collection       string
	refreshThreshold time.Duration

	// The token sits behind a pointer so that printing a Client by value with fmt shows an
	// address, never the token.
	auth *authState
}

// authState is the in-memory token and the auth collection it belongs to.
type authState struct {
	mu         sync.Mutex
	token      string
	collection string

	// refreshing serialises refreshes, so concurrent calls refresh a token once.
	refreshing sync.Mutex
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client used for every request. The default has a timeout of
// DefaultTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithCollection sets the auth collection that the sign-in, refresh and impersonation calls use
// (DefaultCollection unless set). AuthSuperuser always uses SuperuserCollection.
func WithCollection(name string) Option {
	return func(c *Client) { c.collection = name }
}

// WithRefreshThreshold sets how close to its expiry a refreshable token is refreshed before an
// authenticated call (DefaultRefreshThreshold unless set). A threshold of zero or less turns the
// automatic refresh off; Refresh still works.
func WithRefreshThreshold(d time.Duration) Option {
	return func(c *Client) { c.refreshThreshold = d }
}

// New returns a Client for the server at baseURL (for example "https://phaseflow.example.com",
// optionally with a path prefix), holding no token.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		// url.Error repeats the input, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("failed to parse the base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("invalid base URL %q: expected http:// or https:// and a host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("invalid base URL %q: expected no user info, query or fragment", u.Redacted())
	}
	c := &Client{
		baseURL:          strings.TrimSuffix(u.String(), "/"),
		http:             &http.Client{Timeout: DefaultTimeout},
		collection:       DefaultCollection,
		refreshThreshold: DefaultRefreshThreshold,
		auth:             &authState{},
	}
	for _, opt := range opts {
		opt(c)
	}
	if c.http == nil {
		return nil, errors.New("invalid options: the HTTP client is nil")
	}
	if c.collection == "" {
		return nil, errors.New("invalid options: the collection name is empty")
	}
	return c, nil
}

// Token returns the auth token the Client holds ("" when signed out).
func (c *Client) Token() string {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	return c.auth.token
}

// SetToken makes the Client hold token, a token of the Client's collection (see WithCollection),
// for example one printed by `./app impersonate`. An empty token signs the Client out.
func (c *Client) SetToken(token string) {
	c.setToken(token, c.collection)
}

// Clear drops the token from memory. It does not tell the server; see Logout and LogoutAll.
func (c *Client) Clear() {
	c.setToken("", "")
}

func (c *Client) setToken(token, collection string) {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	c.auth.token, c.auth.collection = token, collection
	if token == "" {
		c.auth.collection = ""
	}
}

// replaceToken swaps old for token ("" drops it) unless the Client meanwhile got another token
// (SetToken, Clear or a sign-in), which wins.
func (c *Client) replaceToken(old, token string) {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	if c.auth.token == old {
		c.auth.token = token
		if token == "" {
			c.auth.collection = ""
		}
	}
}

// tokenCollection is the auth collection of the held token.
func (c *Client) tokenCollection() string {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	if c.auth.collection != "" {
		return c.auth.collection
	}
	return c.collection
}

// String describes the Client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("client.Client{baseURL: %q, collection: %q, signedIn: %t}", c.baseURL, c.collection, c.Token() != "")
}

// Format prints the Client as String does, whatever the verb (%v, %+v, %#v, %s, %x ...), so no
// formatting of a Client can reveal its token.
func (c *Client) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, c.String())
}

// Do sends a request to path (for example "/api/user/export", with an optional query) and
// decodes a JSON answer into out. body, when not nil, is sent as JSON; out may be nil to discard
// the answer. The held token is sent in the Authorization header (refreshed first when it is
// about to expire). An answer outside 2xx is returned as an *Error.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	return c.send(ctx, request{method: method, path: path, body: body, out: out, auth: true, refresh: true})
}

// request is one API call.
type request struct {
	method, path string
	body, out    any
	// auth sends the held token; refresh refreshes it first when it is about to expire.
	auth, refresh bool
	// token, when set, is sent instead of the held token.
	token string
}

func (c *Client) send(ctx context.Context, r request) error {
	if !strings.HasPrefix(r.path, "/") {
		return fmt.Errorf("invalid path %q: expected it to start with /", r.path)
	}
	if r.auth && r.refresh {
		if err := c.refreshIfNeeded(ctx); err != nil {
			return err
		}
	}
	var rd io.Reader
	if r.body != nil {
		raw, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("failed to encode the request body: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.baseURL+r.path, rd)
	if err != nil {
		return fmt.Errorf("failed to build the request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	token := r.token
	if token == "" && r.auth {
		token = c.Token()
	}
	if token != "" {
		// The raw token, as PocketBase's own SDK sends it (the server also accepts "Bearer ").
		req.Header.Set("Authorization", token)
	}

	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("failed to send request: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return decodeError(res)
	}
	if r.out == nil || res.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponseBody))
		return nil
	}
	err = json.NewDecoder(io.LimitReader(res.Body, maxResponseBody)).Decode(r.out)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("failed to decode the answer to %s %s: %w", r.method, r.path, err)
	}
	return nil
}
