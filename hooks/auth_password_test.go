package hooks_test

import (
	"net/http"
	"strings"
	"testing"

	"phaseflow/audit"
	"phaseflow/internal/apptest"
)

func TestPasswordSignIn(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	user := apptest.CreateUser(t, srv.App, "ana@example.com")

	t.Run("correct password returns a token", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "ana@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		body := res.JSON(t)
		if tok, _ := body["token"].(string); tok == "" {
			t.Fatalf("expected a token, got %s", res.Body)
		}
	})

	wrong := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
		map[string]string{"identity": "ana@example.com", "password": "not-the-password"}, nil)
	unknown := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
		map[string]string{"identity": "nobody@example.com", "password": "not-the-password"}, nil)

	t.Run("wrong password is refused", func(t *testing.T) {
		if wrong.Status != http.StatusBadRequest || strings.Contains(string(wrong.Body), "token") {
			t.Fatalf("expected 400 without a token, got %d: %s", wrong.Status, wrong.Body)
		}
	})
	t.Run("unknown email gets the same response as a wrong password", func(t *testing.T) {
		if unknown.Status != wrong.Status || string(unknown.Body) != string(wrong.Body) {
			t.Fatalf("expected %d %s, got %d %s", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
		}
	})
	t.Run("each attempt is audited without the password", func(t *testing.T) {
		events := apptest.AuthEvents(t, srv.App, "method = 'password'")
		if len(events) != 3 {
			t.Fatalf("expected 3 password events, got %d", len(events))
		}
		want := []struct{ outcome, user, reason string }{
			{audit.OutcomeSuccess, user.Id, ""},
			{audit.OutcomeFailure, user.Id, "Wrong password."},
			{audit.OutcomeFailure, "", "No account for this identity."},
		}
		for i, w := range want {
			ev := events[i]
			if ev.GetString("outcome") != w.outcome || ev.GetString("user") != w.user || ev.GetString("reason") != w.reason {
				t.Fatalf("event %d: expected %+v, got outcome=%q user=%q reason=%q", i, w,
					ev.GetString("outcome"), ev.GetString("user"), ev.GetString("reason"))
			}
			if ev.GetString("ip") == "" {
				t.Fatalf("event %d: expected the client IP", i)
			}
			for _, secret := range []string{apptest.Password, "not-the-password"} {
				raw, _ := ev.MarshalJSON()
				if strings.Contains(string(raw), secret) {
					t.Fatalf("event %d holds a password: %s", i, raw)
				}
			}
		}
	})
	t.Run("a sign-in through the collection id is attributed to the user", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/_pb_users_auth_/auth-with-password",
			map[string]string{"identity": "ana@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d", res.Status)
		}
		evs := apptest.AuthEvents(t, srv.App, "collection = 'users' && user = {:u}", map[string]any{"u": user.Id})
		if len(evs) != 3 { // the first success, the wrong password and this one
			t.Fatalf("expected 3 events for the user, got %d", len(evs))
		}
	})
	t.Run("a password typed as the identity is not stored", func(t *testing.T) {
		srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "hunter2-secret", "password": "x"}, nil)
		if evs := apptest.AuthEvents(t, srv.App, "identity ~ 'hunter2'"); len(evs) != 0 {
			t.Fatal("a non-email identity was stored")
		}
	})
}

func TestPasswordSignInRateLimit(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t) // AUTH_RATE_LIMIT defaults to 5 per minute
	srv := apptest.Start(t, cfg)
	apptest.CreateUser(t, srv.App, "ana@example.com")

	for i := 1; i <= cfg.AuthRateLimit; i++ {
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "ana@example.com", "password": "guess-" + string(rune('a'+i))}, nil)
		if res.Status != http.StatusBadRequest {
			t.Fatalf("attempt %d: expected 400, got %d: %s", i, res.Status, res.Body)
		}
	}
	// The sixth attempt is refused even with the right password.
	res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
		map[string]string{"identity": "ana@example.com", "password": apptest.Password}, nil)
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("expected 429 on attempt %d, got %d: %s", cfg.AuthRateLimit+1, res.Status, res.Body)
	}
	limited := apptest.AuthEvents(t, srv.App, "method = 'password' && outcome = 'rate_limited'")
	if len(limited) != 1 {
		t.Fatalf("expected 1 rate-limited event, got %d", len(limited))
	}
	// The users:auth rule also limits email-code sign-in, with its own per-endpoint budget.
	for i := 1; i <= cfg.AuthRateLimit+1; i++ {
		res = srv.Do(t, "POST", "/api/collections/users/auth-with-otp",
			map[string]string{"otpId": "unknown", "password": "12345678"}, nil)
	}
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("expected 429 for the 6th OTP sign-in from one client, got %d: %s", res.Status, res.Body)
	}
}
