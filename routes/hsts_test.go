package routes_test

import (
	"net/http"
	"testing"

	"phaseflow/internal/apptest"
	"phaseflow/routes"
)

func TestHSTS(t *testing.T) {
	t.Parallel()
	requests := []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"a page", http.MethodGet, "/login", nil, http.StatusOK},
		{"PocketBase's health", http.MethodGet, "/api/health", nil, http.StatusOK},
		{"an unknown API path", http.MethodGet, "/api/nope", nil, http.StatusNotFound},
		{"a failed sign-in", http.MethodPost, "/api/collections/users/auth-with-password", map[string]string{"identity": "a@example.com", "password": "wrong-password"}, http.StatusBadRequest},
		// AUTH_RATE_LIMIT=1: the rate limiter answers this one itself.
		{"a rate-limited sign-in", http.MethodPost, "/api/collections/users/auth-with-password", map[string]string{"identity": "a@example.com", "password": "wrong-password"}, http.StatusTooManyRequests},
	}
	for _, appURL := range []string{"https://phaseflow.example.com", "http://127.0.0.1:8090"} {
		t.Run(appURL, func(t *testing.T) {
			t.Parallel()
			cfg := apptest.Config(t)
			cfg.AppURL = appURL
			cfg.AuthRateLimit = 1
			srv := apptest.Start(t, cfg)
			want := []string(nil)
			if appURL[:8] == "https://" {
				want = []string{routes.HSTSValue}
			}
			for _, r := range requests {
				res := srv.Do(t, r.method, r.path, r.body, nil)
				if res.Status != r.status {
					t.Fatalf("%s: expected %d, got %d: %s", r.name, r.status, res.Status, res.Body)
				}
				got := res.Header.Values("Strict-Transport-Security")
				if len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
					t.Fatalf("%s: expected Strict-Transport-Security %q, got %q", r.name, want, got)
				}
			}
		})
	}
}
