package apptest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// EndSession adds RP-initiated logout to a mockoidc provider, which has none, the way a real
// Pocket-ID answers it (see shared/notes/pocketid.md): the discovery document lists an
// end_session_endpoint; a request with a valid id_token_hint (signed by the provider, expired or
// not) is redirected to its post_logout_redirect_uri, and one without is sent to the provider's
// own /logout page. mockoidc serves a fixed set of paths, so the endpoint has its own listener on
// 127.0.0.1. Install Middleware with m.AddMiddleware before m.Start; Close stops the listener.
type EndSession struct {
	m   *mockoidc.MockOIDC
	srv *httptest.Server

	mu       sync.Mutex
	requests []url.Values
}

// NewEndSession starts the end-session endpoint of m.
func NewEndSession(m *mockoidc.MockOIDC) *EndSession {
	s := &EndSession{m: m}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the end_session_endpoint.
func (s *EndSession) URL() string { return s.srv.URL + "/end-session" }

// Close stops the endpoint.
func (s *EndSession) Close() { s.srv.Close() }

// Requests returns the queries of the end-session requests received so far.
func (s *EndSession) Requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.requests...)
}

// Middleware adds the end-session endpoint to the provider's discovery document.
func (s *EndSession) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != mockoidc.DiscoveryEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		rec := &bufferedWriter{header: http.Header{}}
		next.ServeHTTP(rec, r)
		var doc map[string]any
		if err := json.Unmarshal(rec.body.Bytes(), &doc); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		doc["end_session_endpoint"] = s.URL()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
}

// serve answers the end-session endpoint and the provider's own sign-out page.
func (s *EndSession) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/end-session":
		q := r.URL.Query()
		s.mu.Lock()
		s.requests = append(s.requests, q)
		s.mu.Unlock()
		back := q.Get("post_logout_redirect_uri")
		if back == "" || !s.validHint(q.Get("id_token_hint")) {
			http.Redirect(w, r, s.srv.URL+"/logout", http.StatusFound)
			return
		}
		http.Redirect(w, r, back, http.StatusFound)
	case "/logout":
		_, _ = w.Write([]byte("<p>Sign out of the identity provider?</p>"))
	default:
		http.NotFound(w, r)
	}
}

// validHint reports whether hint is an id_token of this provider and client, expired or not.
func (s *EndSession) validHint(hint string) bool {
	if hint == "" {
		return false
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(hint, claims); err != nil {
		return false
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		return false
	}
	tok, err := s.m.Keypair.VerifyJWT(hint, func() time.Time { return iat.Time })
	if err != nil || !tok.Valid {
		return false
	}
	aud, _ := claims.GetAudience()
	for _, a := range aud {
		if a == s.m.ClientID {
			return true
		}
	}
	return false
}

type bufferedWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(int)             {}
