package hooks_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"phaseflow/commands"
	"phaseflow/internal/apptest"
	"phaseflow/migrations"
)

func tokenExpiry(t *testing.T, token string) time.Time {
	t.Helper()
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		t.Fatalf("not a JWT: %v", err)
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		t.Fatalf("no exp claim: %v", err)
	}
	return exp.Time
}

func TestAuthRefresh(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	srv := apptest.Start(t, cfg)
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	users, _ := srv.App.FindCollectionByNameOrId(migrations.Users)

	t.Run("refresh extends the expiry to the full session", func(t *testing.T) {
		short, err := security.NewJWT(jwt.MapClaims{
			core.TokenClaimId: user.Id, core.TokenClaimType: core.TokenTypeAuth,
			core.TokenClaimCollectionId: users.Id, core.TokenClaimRefreshable: true,
		}, user.TokenKey()+users.AuthToken.Secret, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, map[string]string{"Authorization": short})
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		fresh, _ := res.JSON(t)["token"].(string)
		want := time.Now().Add(time.Duration(cfg.SessionDays) * 24 * time.Hour)
		if got := tokenExpiry(t, fresh); got.Before(want.Add(-time.Minute)) || got.After(want.Add(time.Minute)) {
			t.Fatalf("expected expiry near %v, got %v", want, got)
		}
		if evs := apptest.AuthEvents(t, srv.App, "method = 'refresh' && outcome = 'success' && user = {:u}", map[string]any{"u": user.Id}); len(evs) != 1 {
			t.Fatalf("expected one audited refresh, got %d", len(evs))
		}
	})

	valid := apptest.Token(t, user)
	expired, err := security.NewJWT(jwt.MapClaims{
		core.TokenClaimId: user.Id, core.TokenClaimType: core.TokenTypeAuth,
		core.TokenClaimCollectionId: users.Id, core.TokenClaimRefreshable: true,
	}, user.TokenKey()+users.AuthToken.Secret, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	superuser := apptest.CreateSuperuser(t, srv.App, "root@example.com")
	refused := []struct{ name, token string }{
		{"a tampered token", valid[:len(valid)-4] + flip(valid[len(valid)-4:])},
		{"a token with forged claims", forgeClaims(t, valid, "refreshable", false)},
		{"an expired token", expired},
		{"a superuser token", apptest.Token(t, superuser)},
		{"no token", ""},
	}
	for _, c := range refused {
		t.Run(c.name+" is refused", func(t *testing.T) {
			res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, map[string]string{"Authorization": c.token})
			if res.Status != http.StatusUnauthorized && res.Status != http.StatusForbidden {
				t.Fatalf("expected 401 or 403, got %d: %s", res.Status, res.Body)
			}
			if strings.Contains(string(res.Body), `"token"`) {
				t.Fatalf("expected no token, got %s", res.Body)
			}
		})
	}
}

// flip changes every character of s, keeping it in the base64url alphabet.
func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

// forgeClaims re-encodes the token's payload with one claim changed, keeping the old signature.
func forgeClaims(t *testing.T, token, claim string, value any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		t.Fatal(err)
	}
	claims[claim] = value
	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SigningString()
	if err != nil {
		t.Fatal(err)
	}
	return unsigned + "." + parts[2]
}

func TestImpersonation(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	other := apptest.CreateUser(t, srv.App, "bob@example.com")
	superuser := apptest.CreateSuperuser(t, srv.App, "root@example.com")

	t.Run("a superuser gets a non-refreshable token", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/impersonate/"+user.Id, map[string]int{"duration": 600},
			map[string]string{"Authorization": apptest.Token(t, superuser)})
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		tok, _ := res.JSON(t)["token"].(string)
		claims, _ := security.ParseUnverifiedJWT(tok)
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
			map[string]string{"Authorization": apptest.Token(t, user)})
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
			map[string]string{"Authorization": apptest.Token(t, superuser)})
		if res.Status != http.StatusNotFound {
			t.Fatalf("expected 404, got %d: %s", res.Status, res.Body)
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'impersonate' && identity = 'record doesnotexist123' && collection = 'users'")
		if len(evs) != 1 {
			t.Fatalf("expected the attempt audited, got %d", len(evs))
		}
	})

	t.Run("the impersonate command prints a working static token", func(t *testing.T) {
		var out bytes.Buffer
		cmd := commands.NewImpersonateCommand(srv.App)
		cmd.SetOut(&out)
		cmd.SetArgs([]string{"bob@example.com", "--duration", "2h"})
		if err := cmd.Execute(); err != nil {
			t.Fatalf("impersonate: %v", err)
		}
		tok := strings.TrimSpace(out.String())
		found, err := srv.App.FindAuthRecordByToken(tok, core.TokenTypeAuth)
		if err != nil || found.Id != other.Id {
			t.Fatalf("expected a valid token for bob, got %v", err)
		}
		claims, _ := security.ParseUnverifiedJWT(tok)
		if claims[core.TokenClaimRefreshable] != false {
			t.Fatal("expected a non-refreshable token")
		}
		if exp := tokenExpiry(t, tok); exp.Before(time.Now().Add(119*time.Minute)) || exp.After(time.Now().Add(121*time.Minute)) {
			t.Fatalf("expected a 2h token, got exp %v", exp)
		}
		if evs := apptest.AuthEvents(t, srv.App, "method = 'impersonate' && actor = 'cli'"); len(evs) != 1 {
			t.Fatalf("expected the command to be audited, got %d", len(evs))
		}
	})

	t.Run("the impersonate command refuses an unknown email and a bad duration", func(t *testing.T) {
		for _, args := range [][]string{{"nobody@example.com"}, {"bob@example.com", "--duration", "0s"}, {"bob@example.com", "--duration", "9000h"}} {
			cmd := commands.NewImpersonateCommand(srv.App)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SetArgs(args)
			if err := cmd.Execute(); err == nil {
				t.Fatalf("expected an error for %v", args)
			}
		}
	})
}
