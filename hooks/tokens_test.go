package hooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/internal/apptest"
)

func TestAuthRefresh(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	srv := apptest.Start(t, cfg)
	user := apptest.CreateUser(t, srv.App, "ana@example.com")

	t.Run("refresh extends the expiry to the full session", func(t *testing.T) {
		short := apptest.SignToken(t, user, time.Minute, map[string]any{"sid": apptest.Session(t, srv.App, user)})
		res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, map[string]string{"Authorization": short})
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		fresh, _ := res.JSON(t)["token"].(string)
		want := time.Now().Add(time.Duration(cfg.SessionDays) * 24 * time.Hour)
		if got := apptest.Expiry(t, fresh); got.Before(want.Add(-time.Minute)) || got.After(want.Add(time.Minute)) {
			t.Fatalf("expected expiry near %v, got %v", want, got)
		}
		if evs := apptest.AuthEvents(t, srv.App, "method = 'refresh' && outcome = 'success' && user = {:u}", map[string]any{"u": user.Id}); len(evs) != 1 {
			t.Fatalf("expected one audited refresh, got %d", len(evs))
		}
	})

	valid := apptest.Token(t, srv.App, user)
	expired := apptest.SignToken(t, user, -time.Minute, map[string]any{"sid": apptest.Session(t, srv.App, user)})
	superuser := apptest.CreateSuperuser(t, srv.App, "root@example.com")
	refused := []struct {
		name, token string
		status      int
	}{
		{"a tampered token", apptest.BreakSignature(valid), http.StatusUnauthorized},
		{"a token with forged claims", apptest.ForgeClaim(t, valid, "refreshable", false), http.StatusUnauthorized},
		{"an expired token", expired, http.StatusUnauthorized},
		// PocketBase's refresh requires a token of the same collection.
		{"a superuser token", apptest.Token(t, srv.App, superuser), http.StatusForbidden},
		{"no token", "", http.StatusUnauthorized},
	}
	for _, c := range refused {
		t.Run(c.name+" is refused", func(t *testing.T) {
			res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, map[string]string{"Authorization": c.token})
			if res.Status != c.status {
				t.Fatalf("expected %d, got %d: %s", c.status, res.Status, res.Body)
			}
			if strings.Contains(string(res.Body), `"token"`) {
				t.Fatalf("expected no token, got %s", res.Body)
			}
		})
	}
}

func TestImpersonation(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	other := apptest.CreateUser(t, srv.App, "bob@example.com")
	superuser := apptest.CreateSuperuser(t, srv.App, "root@example.com")

	t.Run("a superuser gets a non-refreshable token", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/impersonate/"+user.Id, map[string]int{"duration": 600},
			map[string]string{"Authorization": apptest.Token(t, srv.App, superuser)})
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		tok, _ := res.JSON(t)["token"].(string)
		claims := apptest.Claims(t, tok)
		if claims[core.TokenClaimRefreshable] != false || claims[core.TokenClaimId] != user.Id {
			t.Fatalf("expected a non-refreshable token for %s, got %v", user.Id, claims)
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'impersonate' && outcome = 'success' && user = {:u} && actor = {:a}",
			map[string]any{"u": user.Id, "a": superuser.Id})
		if len(evs) != 1 {
			t.Fatalf("expected one audited impersonation, got %d", len(evs))
		}
	})

	t.Run("a user token gets 403", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/impersonate/"+other.Id, nil,
			map[string]string{"Authorization": apptest.Token(t, srv.App, user)})
		if res.Status != http.StatusForbidden || strings.Contains(string(res.Body), `"token"`) {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'impersonate' && outcome = 'failure'")
		if len(evs) != 1 {
			t.Fatalf("expected one audited failure, got %d", len(evs))
		}
	})

	t.Run("impersonating a record that does not exist is audited", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/_pb_users_auth_/impersonate/doesnotexist123", nil,
			map[string]string{"Authorization": apptest.Token(t, srv.App, superuser)})
		if res.Status != http.StatusNotFound {
			t.Fatalf("expected 404, got %d: %s", res.Status, res.Body)
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'impersonate' && identity = 'record doesnotexist123' && collection = 'users'")
		if len(evs) != 1 {
			t.Fatalf("expected the attempt audited, got %d", len(evs))
		}
	})
}
