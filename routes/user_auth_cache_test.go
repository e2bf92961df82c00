package routes_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/internal/apptest"
	"phaseflow/users"
)

// warm reads GET /api/user twice with token, so the account is in the cache, and fails unless
// both reads succeed.
func warm(t *testing.T, srv *apptest.Server, token string) {
	t.Helper()
	for range 2 {
		if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(token)); res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
	}
}

func expectRefused(t *testing.T, srv *apptest.Server, token, why string) {
	t.Helper()
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(token)); res.Status != http.StatusUnauthorized {
		t.Fatalf("%s: expected 401 from a warm cache, got %d: %s", why, res.Status, res.Body)
	}
}

// TestCachedAuthNeverAcceptsWhatPocketBaseRefuses attacks GET /api/user's account cache: with
// the account cached, a forged, expired, re-typed or foreign-collection token is refused, and a
// token is refused at once after every change in this process that ends it (a new password,
// sign-out everywhere, a lost approval, the account deleted, the collection's secret rotated).
func TestCachedAuthNeverAcceptsWhatPocketBaseRefuses(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))

	t.Run("tokens PocketBase would not verify", func(t *testing.T) {
		ana := apptest.CreateUser(t, srv.App, "forge@example.com")
		sid := apptest.Session(t, srv.App, ana)
		good := apptest.SignToken(t, ana, time.Hour, map[string]any{"sid": sid})
		warm(t, srv, good)
		expectRefused(t, srv, apptest.BreakSignature(good), "a broken signature")
		expectRefused(t, srv, apptest.ForgeClaim(t, good, "exp", time.Now().Add(24*time.Hour).Unix()), "a longer expiry, old signature")
		expectRefused(t, srv, apptest.SignToken(t, ana, -time.Minute, map[string]any{"sid": sid}), "an expired token")
		expectRefused(t, srv, apptest.SignToken(t, ana, time.Hour, map[string]any{"sid": sid, core.TokenClaimType: core.TokenTypeFile}), "a file token")
		expectRefused(t, srv, apptest.SignToken(t, ana, time.Hour, map[string]any{"sid": sid, core.TokenClaimCollectionId: "_pbc_2773867675"}), "another collection id")
		other := apptest.CreateUser(t, srv.App, "other@example.com")
		expectRefused(t, srv, apptest.ForgeClaim(t, good, core.TokenClaimId, other.Id), "another account's id, this signature")
	})

	t.Run("a new password ends the old token at once", func(t *testing.T) {
		apptest.CreateUser(t, srv.App, "pw@example.com")
		old := srv.SignIn(t, "pw@example.com", iphoneUA)
		warm(t, srv, old)
		res := srv.Do(t, "POST", "/api/user/password", map[string]string{"password": "lantern otter violet"}, apptest.Auth(old))
		if res.Status != http.StatusOK {
			t.Fatalf("expected the password changed, got %d: %s", res.Status, res.Body)
		}
		expectRefused(t, srv, old, "the token from before the new password")
		fresh, _ := res.JSON(t)["token"].(string)
		warm(t, srv, fresh)
	})

	t.Run("sign-out everywhere ends the token at once", func(t *testing.T) {
		apptest.CreateUser(t, srv.App, "all@example.com")
		tok := srv.SignIn(t, "all@example.com", iphoneUA)
		warm(t, srv, tok)
		if res := srv.Do(t, "POST", "/api/user/logout-all", nil, apptest.Auth(tok)); res.Status != http.StatusNoContent && res.Status != http.StatusOK {
			t.Fatalf("expected logout-all to succeed, got %d: %s", res.Status, res.Body)
		}
		expectRefused(t, srv, tok, "a token after sign-out everywhere")
	})

	t.Run("a revoked approval ends the token at once", func(t *testing.T) {
		u := apptest.CreateUser(t, srv.App, "approval@example.com")
		tok := srv.SignIn(t, "approval@example.com", iphoneUA)
		warm(t, srv, tok)
		u, _ = srv.App.FindRecordById(users.Collection, u.Id)
		u.Set(users.FieldApproved, false)
		if err := srv.App.Save(u); err != nil {
			t.Fatal(err)
		}
		expectRefused(t, srv, tok, "a token after the approval was revoked")
	})

	t.Run("a deleted account's token is refused at once", func(t *testing.T) {
		u := apptest.CreateUser(t, srv.App, "gone@example.com")
		tok := srv.SignIn(t, "gone@example.com", iphoneUA)
		warm(t, srv, tok)
		u, _ = srv.App.FindRecordById(users.Collection, u.Id)
		if err := srv.App.Delete(u); err != nil {
			t.Fatal(err)
		}
		expectRefused(t, srv, tok, "a deleted account's token")
	})

	t.Run("a new collection secret ends every token at once", func(t *testing.T) {
		apptest.CreateUser(t, srv.App, "secret@example.com")
		tok := srv.SignIn(t, "secret@example.com", iphoneUA)
		warm(t, srv, tok)
		col, err := srv.App.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			t.Fatal(err)
		}
		col.AuthToken.Secret = "a-new-secret-for-every-users-token-0123456789"
		if err := srv.App.Save(col); err != nil {
			t.Fatal(err)
		}
		expectRefused(t, srv, tok, "a token signed with the old collection secret")
	})
}

// TestCachedAuthServesTheCurrentProfile checks that a read after a change shows the change, that
// each account reads only itself, and that concurrent reads of one cached account (under the
// race detector) do not share a record.
func TestCachedAuthServesTheCurrentProfile(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	apptest.CreateUser(t, srv.App, "ana@example.com")
	apptest.CreateUser(t, srv.App, "ben@example.com")
	ana := srv.SignIn(t, "ana@example.com", iphoneUA)
	ben := srv.SignIn(t, "ben@example.com", iphoneUA)
	warm(t, srv, ana)
	warm(t, srv, ben)

	if res := srv.Do(t, "PATCH", "/api/user", map[string]any{"cycleLength": 31}, apptest.Auth(ana)); res.Status != http.StatusOK {
		t.Fatalf("expected the PATCH to succeed, got %d: %s", res.Status, res.Body)
	}
	if got := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(ana)).JSON(t)["cycleLength"]; got != float64(31) {
		t.Fatalf("expected the new cycle length at once, got %v", got)
	}
	if got := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(ben)).JSON(t)["email"]; got != "ben@example.com" {
		t.Fatalf("expected ben's own profile, got %v", got)
	}

	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			tok, want := ana, "ana@example.com"
			if i%2 == 1 {
				tok, want = ben, "ben@example.com"
			}
			res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(tok))
			if res.Status != http.StatusOK || res.JSON(t)["email"] != want {
				t.Errorf("expected %s, got %d: %s", want, res.Status, res.Body)
			}
		})
	}
	wg.Wait()
}

// TestCachedAuthBoundsAChangeByAnotherProcess rotates an account's token key in the database
// directly, as another process on the same data would (no hook here sees it): the cached copy
// may answer for at most the cache's 10 seconds, then the token is refused.
func TestCachedAuthBoundsAChangeByAnotherProcess(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	u := apptest.CreateUser(t, srv.App, "cli@example.com")
	tok := srv.SignIn(t, "cli@example.com", iphoneUA)
	warm(t, srv, tok)
	if _, err := srv.App.DB().Update(users.Collection, dbx.Params{core.FieldNameTokenKey: "rotated-by-another-process-0123456789abcdef"},
		dbx.HashExp{"id": u.Id}).Execute(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(11 * time.Second)
	for {
		res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(tok))
		if res.Status == http.StatusUnauthorized {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("expected the token refused within the cache's 10 s, still %d", res.Status)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
