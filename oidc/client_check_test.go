package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

func TestCheckClientAnswers(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name    string
		status  int
		body    string
		wantErr error  // errors.Is target, or nil
		wantMsg string // exact message when wantErr is nil and an error is expected
	}{
		{"invalid_grant means the client is good", 400, `{"error":"invalid_grant","error_description":"code not found"}`, nil, ""},
		{"invalid_grant with 401 (mockoidc) is still a good client", 401, `{"error":"invalid_grant"}`, nil, ""},
		{"invalid_client means a bad id or secret", 401, `{"error":"invalid_client"}`, ErrInvalidClient, ""},
		{"invalid_client with 400", 400, `{"error":"invalid_client"}`, ErrInvalidClient, ""},
		{"a bare 401 means a bad id or secret", 401, ``, ErrInvalidClient, ""},
		{"unauthorized_client is a grant problem, not bad credentials", 400, `{"error":"unauthorized_client"}`, nil,
			`unexpected answer from the token endpoint: 400 Bad Request "unauthorized_client"`},
		{"a token for a made-up code is an error", 200, `{"access_token":"x"}`, nil,
			"the token endpoint accepted a made-up authorization code (200 OK): it does not check codes"},
		{"a server error is an error", 503, `upstream down`, nil, "unexpected answer from the token endpoint: 503 Service Unavailable"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(s.status)
				w.Write([]byte(s.body))
			}))
			t.Cleanup(srv.Close)
			err := CheckClient(context.Background(), nil, &Metadata{TokenEndpoint: srv.URL + "/token"}, "id", "secret", "http://127.0.0.1/cb")
			switch {
			case s.wantErr != nil:
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("expected %v, got %v", s.wantErr, err)
				}
			case s.wantMsg != "":
				if err == nil || err.Error() != s.wantMsg {
					t.Fatalf("expected %q, got %v", s.wantMsg, err)
				}
			case err != nil:
				t.Fatalf("expected no error, got %v", err)
			}
		})
	}
}

func TestCheckClientSendsTheCredentialsTheProviderSupports(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name    string
		methods []string
		check   func(r *http.Request) string // "" when the request is as expected
	}{
		{"client_secret_post in the form body", []string{"client_secret_basic", "client_secret_post"}, func(r *http.Request) string {
			if _, _, ok := r.BasicAuth(); ok {
				return "an Authorization header as well as the form"
			}
			if r.PostFormValue("client_id") != "my id" || r.PostFormValue("client_secret") != "s3cr:t&" {
				return "no credentials in the form"
			}
			return ""
		}},
		{"client_secret_basic by default, form-encoded", nil, func(r *http.Request) string {
			id, secret, ok := r.BasicAuth()
			if !ok || id != "my+id" || secret != "s3cr%3At%26" || r.PostFormValue("client_secret") != "" {
				return "no form-encoded basic credentials"
			}
			return ""
		}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if problem := s.check(r); problem != "" || r.PostFormValue("grant_type") != "authorization_code" ||
					!strings.HasPrefix(r.PostFormValue("code"), "phaseflow-client-check-") || len(r.PostFormValue("code_verifier")) < 43 {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":"invalid_grant"}`))
			}))
			t.Cleanup(srv.Close)
			md := &Metadata{TokenEndpoint: srv.URL + "/token", TokenEndpointAuthMethods: s.methods}
			if err := CheckClient(context.Background(), nil, md, "my id", "s3cr:t&", "http://127.0.0.1/cb"); err != nil {
				t.Fatalf("expected the request the provider expects, got %v", err)
			}
		})
	}
}

func TestCheckClientAgainstMockOIDC(t *testing.T) {
	t.Parallel()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	md, err := Discover(context.Background(), nil, m.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckClient(context.Background(), nil, md, m.ClientID, m.ClientSecret, "http://127.0.0.1/cb"); err != nil {
		t.Fatalf("expected the right secret accepted, got %v", err)
	}
	if err := CheckClient(context.Background(), nil, md, m.ClientID, "wrong-secret", "http://127.0.0.1/cb"); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("expected a wrong secret refused, got %v", err)
	}
	if err := CheckClient(context.Background(), nil, md, "wrong-id", m.ClientSecret, "http://127.0.0.1/cb"); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("expected a wrong client id refused, got %v", err)
	}
}
