package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// validDocument returns a Pocket-ID shaped discovery document for issuer.
func validDocument(issuer string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                issuer + "/authorize",
		"token_endpoint":                        issuer + "/api/oidc/token",
		"userinfo_endpoint":                     issuer + "/api/oidc/userinfo",
		"jwks_uri":                              issuer + "/.well-known/jwks.json",
		"end_session_endpoint":                  issuer + "/api/oidc/end-session",
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
}

// newServer starts a loopback server whose issuer is its own URL; handler
// gets that issuer so documents can refer to it.
func newServer(t *testing.T, handler func(issuer string, w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(issuer, w, r)
	}))
	t.Cleanup(srv.Close)
	issuer = srv.URL
	return issuer
}

// serveDocument starts a server answering the discovery path with
// validDocument after edit has changed it.
func serveDocument(t *testing.T, edit func(doc map[string]any)) string {
	t.Helper()
	return newServer(t, func(issuer string, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		doc := validDocument(issuer)
		if edit != nil {
			edit(doc)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	})
}

func TestDiscoveryURL(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		issuer string
		want   string
	}{
		{"https://id.example.com", "https://id.example.com/.well-known/openid-configuration"},
		{"https://id.example.com/", "https://id.example.com/.well-known/openid-configuration"},
		{"https://example.com/oidc", "https://example.com/oidc/.well-known/openid-configuration"},
		{"https://example.com/oidc/", "https://example.com/oidc/.well-known/openid-configuration"},
	}

	for _, s := range scenarios {
		t.Run(s.issuer, func(t *testing.T) {
			t.Parallel()
			if got := DiscoveryURL(s.issuer); got != s.want {
				t.Fatalf("expected %q, got %q", s.want, got)
			}
		})
	}
}

func TestDiscoverValidDocument(t *testing.T) {
	t.Parallel()

	issuer := serveDocument(t, nil)

	got, err := Discover(context.Background(), nil, issuer)
	if err != nil {
		t.Fatalf("expected no error, got %v", err)
	}

	want := &Metadata{
		Issuer:                           issuer,
		AuthorizationEndpoint:            issuer + "/authorize",
		TokenEndpoint:                    issuer + "/api/oidc/token",
		UserinfoEndpoint:                 issuer + "/api/oidc/userinfo",
		JWKSURI:                          issuer + "/.well-known/jwks.json",
		EndSessionEndpoint:               issuer + "/api/oidc/end-session",
		ScopesSupported:                  []string{"openid", "profile", "email"},
		CodeChallengeMethodsSupported:    []string{"plain", "S256"},
		IDTokenSigningAlgValuesSupported: []string{"RS256"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("expected %+v, got %+v", want, got)
	}
}

func TestDiscoverMockOIDC(t *testing.T) {
	t.Parallel()

	m, err := mockoidc.Run()
	if err != nil {
		t.Fatalf("expected no error, got %v", err)
	}
	t.Cleanup(func() { m.Shutdown() })

	got, err := Discover(context.Background(), nil, m.Issuer())
	if err != nil {
		t.Fatalf("expected no error, got %v", err)
	}

	checks := []struct{ name, want, got string }{
		{"issuer", m.Issuer(), got.Issuer},
		{"authorization_endpoint", m.AuthorizationEndpoint(), got.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint(), got.TokenEndpoint},
		{"userinfo_endpoint", m.UserinfoEndpoint(), got.UserinfoEndpoint},
		{"jwks_uri", m.JWKSEndpoint(), got.JWKSURI},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Fatalf("%s: expected %q, got %q", c.name, c.want, c.got)
		}
	}
}

func TestDiscoverValidation(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name string
		edit func(doc map[string]any)
		// wantErr is nil for an accepted document.
		wantErr error
		// wantMsg holds substrings the error must contain; "{issuer}" is
		// replaced by the server's issuer.
		wantMsg []string
	}{
		{
			name:    "issuer with an added trailing slash is a mismatch",
			edit:    func(doc map[string]any) { doc["issuer"] = doc["issuer"].(string) + "/" },
			wantErr: ErrIssuerMismatch,
			wantMsg: []string{`discovery issuer "{issuer}/" does not match the configured issuer "{issuer}"`},
		},
		{
			name:    "another issuer is a mismatch",
			edit:    func(doc map[string]any) { doc["issuer"] = "https://evil.example.com" },
			wantErr: ErrIssuerMismatch,
			wantMsg: []string{`"https://evil.example.com"`},
		},
		{
			name:    "missing authorization_endpoint is rejected",
			edit:    func(doc map[string]any) { delete(doc, "authorization_endpoint") },
			wantErr: ErrInvalidMetadata,
			wantMsg: []string{"authorization_endpoint is required"},
		},
		{
			name:    "missing token_endpoint is rejected",
			edit:    func(doc map[string]any) { delete(doc, "token_endpoint") },
			wantErr: ErrInvalidMetadata,
			wantMsg: []string{"token_endpoint is required"},
		},
		{
			name:    "missing jwks_uri is rejected",
			edit:    func(doc map[string]any) { delete(doc, "jwks_uri") },
			wantErr: ErrInvalidMetadata,
			wantMsg: []string{"jwks_uri is required"},
		},
		{
			name:    "http endpoint on a non-loopback host is rejected",
			edit:    func(doc map[string]any) { doc["token_endpoint"] = "http://id.example.com/api/oidc/token" },
			wantErr: ErrInvalidMetadata,
			wantMsg: []string{"token_endpoint", "non-loopback"},
		},
		{
			name:    "relative userinfo_endpoint is rejected",
			edit:    func(doc map[string]any) { doc["userinfo_endpoint"] = "/api/oidc/userinfo" },
			wantErr: ErrInvalidMetadata,
			wantMsg: []string{"userinfo_endpoint", "not absolute"},
		},
		{
			name:    "end_session_endpoint with another scheme is rejected",
			edit:    func(doc map[string]any) { doc["end_session_endpoint"] = "ftp://id.example.com/logout" },
			wantErr: ErrInvalidMetadata,
			wantMsg: []string{"end_session_endpoint", `"ftp"`},
		},
		{
			name:    "code_challenge_methods_supported without S256 is rejected",
			edit:    func(doc map[string]any) { doc["code_challenge_methods_supported"] = []string{"plain"} },
			wantErr: ErrInvalidMetadata,
			wantMsg: []string{"code_challenge_methods_supported", "S256"},
		},
		{
			name:    "empty code_challenge_methods_supported is rejected",
			edit:    func(doc map[string]any) { doc["code_challenge_methods_supported"] = []string{} },
			wantErr: ErrInvalidMetadata,
			wantMsg: []string{"code_challenge_methods_supported"},
		},
		{
			name: "all problems are reported together",
			edit: func(doc map[string]any) {
				doc["issuer"] = "https://other.example.com"
				delete(doc, "token_endpoint")
				doc["jwks_uri"] = "http://id.example.com/jwks.json"
			},
			wantErr: ErrIssuerMismatch,
			wantMsg: []string{"does not match", "token_endpoint is required", "jwks_uri"},
		},
		{
			name: "absent code_challenge_methods_supported is accepted",
			edit: func(doc map[string]any) { delete(doc, "code_challenge_methods_supported") },
		},
		{
			name: "absent optional endpoints are accepted",
			edit: func(doc map[string]any) {
				delete(doc, "userinfo_endpoint")
				delete(doc, "end_session_endpoint")
			},
		},
		{
			name: "https and loopback http endpoints are accepted",
			edit: func(doc map[string]any) {
				doc["authorization_endpoint"] = "https://id.example.com/authorize"
				doc["token_endpoint"] = "http://localhost:1411/api/oidc/token"
				doc["userinfo_endpoint"] = "http://127.0.0.2/api/oidc/userinfo"
				doc["end_session_endpoint"] = "http://[::1]:1411/api/oidc/end-session"
			},
		},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()

			issuer := serveDocument(t, s.edit)
			md, err := Discover(context.Background(), nil, issuer)

			if s.wantErr == nil {
				if err != nil {
					t.Fatalf("expected no error, got %v", err)
				}
				if md == nil || md.Issuer != issuer {
					t.Fatalf("expected metadata for %q, got %+v", issuer, md)
				}
				return
			}

			if !errors.Is(err, s.wantErr) {
				t.Fatalf("expected %v, got %v", s.wantErr, err)
			}
			if md != nil {
				t.Fatalf("expected nil metadata, got %+v", md)
			}
			for _, w := range s.wantMsg {
				w = strings.ReplaceAll(w, "{issuer}", issuer)
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("expected error containing %q, got %v", w, err)
				}
			}
		})
	}
}

func TestDiscoverTransport(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name    string
		handler func(issuer string, w http.ResponseWriter, r *http.Request)
		wantErr error
		wantMsg []string
	}{
		{
			name: "404 is reported with the status and the url",
			handler: func(issuer string, w http.ResponseWriter, r *http.Request) {
				http.NotFound(w, r)
			},
			wantMsg: []string{"404 Not Found", "/.well-known/openid-configuration"},
		},
		{
			name: "invalid JSON is rejected",
			handler: func(issuer string, w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"issuer": "` + issuer + `",`))
			},
			wantMsg: []string{"failed to parse discovery document"},
		},
		{
			// A valid document padded past the limit: it would be accepted
			// if the limit were not enforced.
			name: "body over MaxDocumentSize is rejected",
			handler: func(issuer string, w http.ResponseWriter, r *http.Request) {
				doc, _ := json.Marshal(validDocument(issuer))
				w.Write(doc)
				w.Write([]byte(strings.Repeat(" ", MaxDocumentSize)))
			},
			wantErr: ErrDocumentTooLarge,
		},
		{
			// The redirect target is a valid document, so following it
			// would succeed.
			name: "redirect is refused",
			handler: func(issuer string, w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					json.NewEncoder(w).Encode(validDocument(issuer))
					return
				}
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			},
			wantErr: ErrRedirect,
			wantMsg: []string{"/elsewhere"},
		},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()

			issuer := newServer(t, s.handler)
			client := &http.Client{}
			md, err := Discover(context.Background(), client, issuer)

			if err == nil {
				t.Fatalf("expected an error, got metadata %+v", md)
			}
			if s.wantErr != nil && !errors.Is(err, s.wantErr) {
				t.Fatalf("expected %v, got %v", s.wantErr, err)
			}
			for _, w := range s.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("expected error containing %q, got %v", w, err)
				}
			}
			if client.CheckRedirect != nil {
				t.Fatalf("expected the caller's client to be unchanged, got CheckRedirect set")
			}
		})
	}
}

func TestDiscoverSlowServerStopsAtDeadline(t *testing.T) {
	t.Parallel()

	issuer := newServer(t, func(issuer string, w http.ResponseWriter, r *http.Request) {
		// Returns early when the client gives up, so srv.Close does not wait.
		select {
		case <-time.After(2 * time.Second):
			json.NewEncoder(w).Encode(validDocument(issuer))
		case <-r.Context().Done():
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := Discover(ctx, nil, issuer)
	elapsed := time.Since(start)

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expected %v, got %v", context.DeadlineExceeded, err)
	}
	if elapsed > time.Second {
		t.Fatalf("expected to return within 1s, got %v", elapsed)
	}
}

// roundTripFunc lets a test see the request Discover sends.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDiscoverAppliesDefaultTimeoutWithoutDeadline(t *testing.T) {
	t.Parallel()

	var deadline time.Time
	var hasDeadline bool
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		deadline, hasDeadline = r.Context().Deadline()
		return nil, errors.New("stop here")
	})}

	start := time.Now()
	if _, err := Discover(context.Background(), client, "https://id.example.com"); err == nil {
		t.Fatalf("expected an error, got nil")
	}

	if !hasDeadline {
		t.Fatalf("expected a deadline, got none")
	}
	if d := deadline.Sub(start); d <= 0 || d > DefaultTimeout+time.Second {
		t.Fatalf("expected a deadline about %v away, got %v", DefaultTimeout, d)
	}
}

func TestDiscoverRejectsInsecureIssuer(t *testing.T) {
	t.Parallel()

	scenarios := []string{
		"",
		"id.example.com",
		"http://id.example.com",
	}

	for _, issuer := range scenarios {
		t.Run(issuer, func(t *testing.T) {
			t.Parallel()

			// No server: the issuer must be refused before any request.
			_, err := Discover(context.Background(), nil, issuer)
			if err == nil || !strings.Contains(err.Error(), "invalid configured issuer") {
				t.Fatalf("expected %q error, got %v", "invalid configured issuer", err)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"127.0.0.1", true},
		{"127.255.0.9", true},
		{"::1", true},
		{"", false},
		{"10.0.0.1", false},
		{"128.0.0.1", false},
		{"::2", false},
		{"id.example.com", false},
		{"localhost.example.com", false},
	}

	for _, s := range scenarios {
		t.Run(s.host, func(t *testing.T) {
			t.Parallel()
			if got := isLoopback(s.host); got != s.want {
				t.Fatalf("expected %v, got %v", s.want, got)
			}
		})
	}
}
