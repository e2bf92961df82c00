package routes_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"phaseflow/internal/apptest"
	"phaseflow/users"
)

func TestLogoutAll(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	phone, laptop, bobs := apptest.Token(t, srv.App, ana), apptest.Token(t, srv.App, ana), apptest.Token(t, srv.App, bob)

	if res := srv.Do(t, "POST", "/api/user/logout-all", nil, nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("expected 401 without a token, got %d", res.Status)
	}
	res := srv.Do(t, "POST", "/api/user/logout-all", nil, map[string]string{"Authorization": phone})
	if res.Status != http.StatusNoContent {
		t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
	}
	for name, tok := range map[string]string{"the caller's token": phone, "another device's token": laptop} {
		if res := srv.Do(t, "GET", "/api/user", nil, map[string]string{"Authorization": tok}); res.Status != http.StatusUnauthorized {
			t.Fatalf("%s: expected 401 after logout-all, got %d", name, res.Status)
		}
		if res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, map[string]string{"Authorization": tok}); res.Status == http.StatusOK {
			t.Fatalf("%s: expected refresh to fail", name)
		}
	}
	if res := srv.Do(t, "GET", "/api/user", nil, map[string]string{"Authorization": bobs}); res.Status != http.StatusOK {
		t.Fatalf("expected another user's session untouched, got %d", res.Status)
	}
	if evs := apptest.AuthEvents(t, srv.App, "method = 'logout_all' && user = {:u}", map[string]any{"u": ana.Id}); len(evs) != 1 {
		t.Fatalf("expected one audited logout-all, got %d", len(evs))
	}
}

func mfaOf(t *testing.T, srv *apptest.Server, id string) bool {
	t.Helper()
	r, err := srv.App.FindRecordById(users.Collection, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.GetBool(users.FieldMFA)
}

func TestMFASwitch(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	old := apptest.Token(t, srv.App, ana) // minted without a sign-in: no authTime

	t.Run("turning it on needs only a valid token", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/user/mfa", `{"enabled":true}`, map[string]string{"Authorization": old})
		if res.Status != http.StatusOK || string(res.Body) != `{"enabled":true,"available":true}` || !mfaOf(t, srv, ana.Id) {
			t.Fatalf("expected on, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("turning it off with an old session and no password is refused", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/user/mfa", `{"enabled":false}`, map[string]string{"Authorization": old})
		if res.Status != http.StatusForbidden || !mfaOf(t, srv, ana.Id) {
			t.Fatalf("expected 403 and mfa still on, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("a wrong password is refused", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/user/mfa", `{"enabled":false,"password":"wrong-password"}`, map[string]string{"Authorization": old})
		if res.Status != http.StatusBadRequest || !mfaOf(t, srv, ana.Id) {
			t.Fatalf("expected 400, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("a forged authTime claim is refused", func(t *testing.T) {
		forged := apptest.SignToken(t, ana, time.Hour, map[string]any{"authTime": time.Now().Unix(), "sid": apptest.Session(t, srv.App, ana)})
		forged = forged[:len(forged)-3] + "abc"
		res := srv.Do(t, "POST", "/api/user/mfa", `{"enabled":false}`, map[string]string{"Authorization": forged})
		if res.Status != http.StatusUnauthorized || !mfaOf(t, srv, ana.Id) {
			t.Fatalf("expected 401, got %d: %s", res.Status, res.Body)
		}
	})
	for _, body := range []string{`{}`, `{"enabled":"no"}`, `{"enabled":false,"extra":1}`, `nope`} {
		t.Run("a malformed body "+body+" is refused", func(t *testing.T) {
			res := srv.Do(t, "POST", "/api/user/mfa", body, map[string]string{"Authorization": old})
			if res.Status != http.StatusBadRequest || !mfaOf(t, srv, ana.Id) {
				t.Fatalf("expected 400, got %d: %s", res.Status, res.Body)
			}
		})
	}
	t.Run("the current password turns it off", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/user/mfa", `{"enabled":false,"password":"`+apptest.Password+`"}`, map[string]string{"Authorization": old})
		if res.Status != http.StatusOK || mfaOf(t, srv, ana.Id) {
			t.Fatalf("expected off, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("a recent sign-in, kept across a refresh, turns it off", func(t *testing.T) {
		srv.Do(t, "POST", "/api/user/mfa", `{"enabled":true}`, map[string]string{"Authorization": old})
		bob := apptest.CreateUser(t, srv.App, "bob@example.com")
		tok := srv.SignIn(t, "bob@example.com", "test")
		res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, map[string]string{"Authorization": tok})
		refreshed, _ := res.JSON(t)["token"].(string)
		res = srv.Do(t, "POST", "/api/user/mfa", `{"enabled":true}`, map[string]string{"Authorization": refreshed})
		if res.Status != http.StatusOK {
			t.Fatalf("on: %d %s", res.Status, res.Body)
		}
		res = srv.Do(t, "POST", "/api/user/mfa", `{"enabled":false}`, map[string]string{"Authorization": refreshed})
		if res.Status != http.StatusOK || mfaOf(t, srv, bob.Id) {
			t.Fatalf("expected off with a fresh sign-in, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("password guesses count towards the account's lock", func(t *testing.T) {
		carl := apptest.CreateUser(t, srv.App, "carl@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })
		tok := apptest.Token(t, srv.App, carl)
		cfg := apptest.Config(t)
		for i := 1; i <= cfg.AccountLockFailures; i++ {
			if got := srv.Do(t, "POST", "/api/user/mfa", `{"enabled":false,"password":"guess"}`, map[string]string{"Authorization": tok}).Status; got != http.StatusBadRequest {
				t.Fatalf("guess %d: expected 400, got %d", i, got)
			}
		}
		if got := srv.Do(t, "POST", "/api/user/mfa", `{"enabled":false,"password":"guess"}`, map[string]string{"Authorization": tok}).Status; got != http.StatusTooManyRequests {
			t.Fatalf("expected 429 once the account is locked, got %d", got)
		}
		res := srv.Do(t, "POST", "/api/user/mfa", `{"enabled":false,"password":"`+apptest.Password+`"}`, map[string]string{"Authorization": tok})
		if res.Status != http.StatusTooManyRequests || !mfaOf(t, srv, carl.Id) {
			t.Fatalf("expected the right password to wait too, got %d", res.Status)
		}
	})
	t.Run("every change is audited", func(t *testing.T) {
		// On, the refusal without proof, the wrong password, off, on again.
		if evs := apptest.AuthEvents(t, srv.App, "method = 'mfa_setting' && user = {:u}", map[string]any{"u": ana.Id}); len(evs) != 5 {
			t.Fatalf("expected the changes and refusals audited, got %d", len(evs))
		}
	})
	t.Run("GET reports the state", func(t *testing.T) {
		res := srv.Do(t, "GET", "/api/user/mfa", nil, map[string]string{"Authorization": old})
		if string(res.Body) != `{"enabled":true,"available":true}` {
			t.Fatalf("unexpected %s", res.Body)
		}
	})
}

// TestSlowRequestCannotUndoSignOutEverywhere holds a PATCH body open while the account signs out
// everywhere and changes its password; finishing the body must not write the stale record back.
func TestSlowRequestCannotUndoSignOutEverywhere(t *testing.T) {
	t.Parallel()
	// authenticated is closed once the PATCH has passed the auth middleware and waits for its body.
	authenticated := make(chan struct{})
	var once sync.Once
	srv := apptest.Start(t, apptest.Config(t), func(app *tests.TestApp) {
		app.OnServe().BindFunc(func(se *core.ServeEvent) error {
			se.Router.BindFunc(func(e *core.RequestEvent) error {
				if e.Request.Method == http.MethodPatch && e.Auth != nil {
					once.Do(func() { close(authenticated) })
				}
				return e.Next()
			})
			return se.Next()
		})
	})
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	stolen := apptest.Token(t, srv.App, ana)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PATCH", srv.URL+"/api/user", pr)
	req.Header.Set("Authorization", stolen)
	req.Header.Set("Content-Type", "application/json")
	done := make(chan *http.Response, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	if _, err := pw.Write([]byte(`{"cycleLength":`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-authenticated:
	case <-time.After(10 * time.Second):
		t.Fatal("the PATCH was never authenticated")
	}

	fresh, _ := srv.App.FindRecordById(users.Collection, ana.Id)
	fresh.SetPassword("a-brand-new-password")
	fresh.RefreshTokenKey()
	if err := srv.App.Save(fresh); err != nil {
		t.Fatal(err)
	}
	_, _ = pw.Write([]byte(`30}`))
	pw.Close()
	res := <-done
	if res == nil {
		t.Fatal("no response")
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expected 401 for a session ended mid-request, got %d", res.StatusCode)
	}
	after, _ := srv.App.FindRecordById(users.Collection, ana.Id)
	if !after.ValidatePassword("a-brand-new-password") || after.TokenKey() != fresh.TokenKey() || after.GetInt(users.FieldCycleLength) != 28 {
		t.Fatal("the stale request wrote old data back")
	}
	if res := srv.Do(t, "GET", "/api/user", nil, map[string]string{"Authorization": stolen}); res.Status != http.StatusUnauthorized {
		t.Fatalf("expected the stolen token to stay dead, got %d", res.Status)
	}
}
