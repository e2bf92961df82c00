package routes_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/internal/apptest"
	"phaseflow/sessions"
	"phaseflow/users"
)

const (
	firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	iphoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// listSessions returns GET /api/user/sessions for token, requiring 200.
func listSessions(t *testing.T, srv *apptest.Server, token string) []map[string]any {
	t.Helper()
	res := srv.Do(t, "GET", "/api/user/sessions", nil, apptest.Auth(token))
	if res.Status != http.StatusOK {
		t.Fatalf("sessions: expected 200, got %d: %s", res.Status, res.Body)
	}
	var out []map[string]any
	if err := json.Unmarshal(res.Body, &out); err != nil {
		t.Fatalf("sessions: expected a JSON array, got %s", res.Body)
	}
	return out
}

// sessionRows counts the sessions rows of a user.
func sessionRows(t *testing.T, app core.App, userID string) int {
	t.Helper()
	n, err := app.CountRecords(sessions.Collection, dbx.HashExp{sessions.FieldUser: userID})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// requireEnded checks that token is treated as no token on every path.
func requireEnded(t *testing.T, srv *apptest.Server, user *core.Record, token string) {
	t.Helper()
	checks := []struct {
		name, method, path string
		status             int
	}{
		{"/api/user", "GET", "/api/user", http.StatusUnauthorized},
		// PocketBase's record API answers as to a guest: the owner-only view rule hides the record.
		{"the record API", "GET", "/api/collections/users/records/" + user.Id, http.StatusNotFound},
		{"auth-refresh", "POST", "/api/collections/users/auth-refresh", http.StatusUnauthorized},
	}
	for _, c := range checks {
		res := srv.Do(t, c.method, c.path, nil, apptest.Auth(token))
		if res.Status != c.status {
			t.Fatalf("%s: expected %d for an ended session, got %d: %s", c.name, c.status, res.Status, res.Body)
		}
		if strings.Contains(string(res.Body), user.Email()) || strings.Contains(string(res.Body), `"token"`) {
			t.Fatalf("%s: an ended session got data: %s", c.name, res.Body)
		}
	}
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(token)); !strings.Contains(string(res.Body), "Your session has ended") {
		t.Fatalf("expected /api/user to say the session ended, got %s", res.Body)
	}
	res := srv.Do(t, "GET", "/settings", nil, map[string]string{"Cookie": "pb_auth=" + token})
	if res.Status != http.StatusFound || res.Header.Get("Location") != "/login?next=/settings" {
		t.Fatalf("page guard: expected 302 to /login, got %d %q", res.Status, res.Header.Get("Location"))
	}
}

// requireLive checks that token still works.
func requireLive(t *testing.T, srv *apptest.Server, token string) {
	t.Helper()
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(token)); res.Status != http.StatusOK {
		t.Fatalf("expected the session to be live, got %d: %s", res.Status, res.Body)
	}
}

func TestSignOutEndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	laptop := srv.SignIn(t, "ana@example.com", firefoxUA)
	phone := srv.SignIn(t, "ana@example.com", iphoneUA)
	requireLive(t, srv, laptop)

	if res := srv.Do(t, "POST", "/api/user/logout", nil, nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("expected 401 without a token, got %d", res.Status)
	}
	res := srv.Do(t, "POST", "/api/user/logout", nil, apptest.Auth(laptop))
	if res.Status != http.StatusNoContent {
		t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
	}
	requireEnded(t, srv, ana, laptop)
	requireLive(t, srv, phone)
	if n := sessionRows(t, srv.App, ana.Id); n != 1 {
		t.Fatalf("expected 1 session row left, got %d", n)
	}
	if evs := apptest.AuthEvents(t, srv.App, "method = 'logout' && user = {:u}", map[string]any{"u": ana.Id}); len(evs) != 1 {
		t.Fatalf("expected the sign-out audited once, got %d", len(evs))
	}
	t.Run("signing out again with the ended token is refused", func(t *testing.T) {
		if res := srv.Do(t, "POST", "/api/user/logout", nil, apptest.Auth(laptop)); res.Status != http.StatusUnauthorized {
			t.Fatalf("expected 401, got %d", res.Status)
		}
	})
}

// manySignIns is a configuration for tests that sign in more often than the rate limit allows.
func manySignIns(t *testing.T) config.Config {
	cfg := apptest.Config(t)
	cfg.AuthRateLimit = 1000
	return cfg
}

func TestDeviceList(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	laptop := srv.SignIn(t, "ana@example.com", firefoxUA)
	phone := srv.SignIn(t, "ana@example.com", iphoneUA)
	bobs := srv.SignIn(t, "bob@example.com", firefoxUA)

	list := listSessions(t, srv, laptop)
	if len(list) != 2 {
		t.Fatalf("expected 2 sessions, got %v", list)
	}
	keys := []string{"created", "current", "device", "expires", "id", "ip", "lastSeen", "method"}
	devices := map[string]map[string]any{}
	for _, s := range list {
		if len(s) != len(keys) {
			t.Fatalf("expected exactly %v, got %v", keys, s)
		}
		for _, k := range keys {
			if _, ok := s[k]; !ok {
				t.Fatalf("missing %s in %v", k, s)
			}
		}
		devices[s["device"].(string)] = s
	}
	ff, ios := devices["Firefox on Linux"], devices["Safari on iOS"]
	if ff == nil || ios == nil {
		t.Fatalf("expected the devices Firefox on Linux and Safari on iOS, got %v", list)
	}
	if ff["current"] != true || ios["current"] != false {
		t.Fatalf("expected the laptop marked current, got laptop=%v phone=%v", ff["current"], ios["current"])
	}
	if ff["method"] != "password" || ff["ip"] != "127.0.0.1" {
		t.Fatalf("expected method password from 127.0.0.1, got %v", ff)
	}
	ends, err := time.Parse("2006-01-02 15:04:05.000Z", ff["expires"].(string))
	if want := time.Now().Add(14 * 24 * time.Hour); err != nil || ends.Before(want.Add(-time.Minute)) || ends.After(want.Add(time.Minute)) {
		t.Fatalf("expected the session to end in 14 days, got %v (%v)", ff["expires"], err)
	}

	t.Run("another user's session id is 404 and nothing ends", func(t *testing.T) {
		before := apptest.UsersSnapshot(t, srv.App)
		bobSession := listSessions(t, srv, bobs)[0]["id"].(string)
		res := srv.Do(t, "DELETE", "/api/user/sessions/"+bobSession, nil, apptest.Auth(laptop))
		if res.Status != http.StatusNotFound {
			t.Fatalf("expected 404, got %d: %s", res.Status, res.Body)
		}
		unknown := srv.Do(t, "DELETE", "/api/user/sessions/nosuchsession12", nil, apptest.Auth(laptop))
		if unknown.Status != res.Status || string(unknown.Body) != string(res.Body) {
			t.Fatalf("expected the same answer as for an unknown id, got %d %s vs %d %s", res.Status, res.Body, unknown.Status, unknown.Body)
		}
		requireLive(t, srv, bobs)
		if n := sessionRows(t, srv.App, bob.Id); n != 1 {
			t.Fatalf("expected bob's session row kept, got %d", n)
		}
		if apptest.UsersSnapshot(t, srv.App) != before {
			t.Fatal("a refused request changed an account")
		}
	})

	t.Run("ending one device leaves the other working", func(t *testing.T) {
		res := srv.Do(t, "DELETE", "/api/user/sessions/"+ios["id"].(string), nil, apptest.Auth(laptop))
		if res.Status != http.StatusNoContent {
			t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
		}
		requireEnded(t, srv, ana, phone)
		requireLive(t, srv, laptop)
		if evs := apptest.AuthEvents(t, srv.App, "method = 'session_end' && user = {:u}", map[string]any{"u": ana.Id}); len(evs) != 1 {
			t.Fatalf("expected the end audited once, got %d", len(evs))
		}
	})

	t.Run("sign out of all other devices keeps this one", func(t *testing.T) {
		tablet := srv.SignIn(t, "ana@example.com", iphoneUA)
		desktop := srv.SignIn(t, "ana@example.com", firefoxUA)
		res := srv.Do(t, "POST", "/api/user/sessions/revoke-others", nil, apptest.Auth(laptop))
		if res.Status != http.StatusOK || string(res.Body) != `{"ended":2}` {
			t.Fatalf("expected 200 {\"ended\":2}, got %d: %s", res.Status, res.Body)
		}
		requireEnded(t, srv, ana, tablet)
		requireEnded(t, srv, ana, desktop)
		requireLive(t, srv, laptop)
		if got := listSessions(t, srv, laptop); len(got) != 1 || got[0]["current"] != true {
			t.Fatalf("expected only the current session, got %v", got)
		}
		requireLive(t, srv, bobs)
	})

	t.Run("sign out everywhere ends every row", func(t *testing.T) {
		srv.SignIn(t, "ana@example.com", iphoneUA)
		if res := srv.Do(t, "POST", "/api/user/logout-all", nil, apptest.Auth(laptop)); res.Status != http.StatusNoContent {
			t.Fatalf("expected 204, got %d", res.Status)
		}
		requireEnded(t, srv, ana, laptop)
		if n := sessionRows(t, srv.App, ana.Id); n != 0 {
			t.Fatalf("expected no session rows, got %d", n)
		}
		requireLive(t, srv, bobs)
	})

	t.Run("a superuser token is refused on the device endpoints", func(t *testing.T) {
		su := apptest.CreateSuperuser(t, srv.App, "root@example.com")
		if res := srv.Do(t, "GET", "/api/user/sessions", nil, apptest.Auth(apptest.Token(t, srv.App, su))); res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d", res.Status)
		}
	})

	t.Run("users cannot read the sessions collection through the record API", func(t *testing.T) {
		res := srv.Do(t, "GET", "/api/collections/sessions/records", nil, apptest.Auth(bobs))
		if res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
	})
}

// setSession changes a session row through the app, as an operator (or time) would.
func setSession(t *testing.T, app core.App, id string, fields map[string]any) {
	t.Helper()
	r, err := app.FindRecordById(sessions.Collection, id)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		r.Set(k, v)
	}
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
}

func TestSessionLifetimes(t *testing.T) {
	t.Parallel()
	cfg := manySignIns(t)
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	past := time.Now().Add(-time.Minute)

	t.Run("an idle-expired session is refused", func(t *testing.T) {
		tok := srv.SignIn(t, "ana@example.com", firefoxUA)
		setSession(t, srv.App, users.SessionID(tok), map[string]any{sessions.FieldIdleExpires: past})
		requireEnded(t, srv, ana, tok)
	})
	t.Run("a session past its absolute expiry is refused", func(t *testing.T) {
		tok := srv.SignIn(t, "ana@example.com", firefoxUA)
		setSession(t, srv.App, users.SessionID(tok), map[string]any{sessions.FieldExpires: past})
		requireEnded(t, srv, ana, tok)
	})
	t.Run("a refresh slides the idle expiry but never past the absolute one", func(t *testing.T) {
		tok := srv.SignIn(t, "ana@example.com", firefoxUA)
		sid := users.SessionID(tok)
		absolute := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
		setSession(t, srv.App, sid, map[string]any{sessions.FieldExpires: absolute, sessions.FieldIdleExpires: absolute.Add(-30 * time.Minute)})
		res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, apptest.Auth(tok))
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		fresh, _ := res.JSON(t)["token"].(string)
		if users.SessionID(fresh) != sid {
			t.Fatalf("expected the refresh to keep sid %s, got %s", sid, users.SessionID(fresh))
		}
		if exp := apptest.Expiry(t, fresh); exp.After(absolute.Add(time.Second)) {
			t.Fatalf("expected the token to expire by the absolute limit %v, got %v", absolute, exp)
		}
		s, err := sessions.Find(srv.App, sid)
		if err != nil || !s.IdleExpires.Equal(absolute) {
			t.Fatalf("expected the idle expiry slid up to the absolute one %v, got %v (%v)", absolute, s.IdleExpires, err)
		}
		setSession(t, srv.App, sid, map[string]any{sessions.FieldExpires: past})
		requireEnded(t, srv, ana, fresh)
	})
	t.Run("a sign-in's token lasts SESSION_DAYS and a 400-day-old session cannot refresh", func(t *testing.T) {
		tok := srv.SignIn(t, "ana@example.com", firefoxUA)
		want := time.Now().Add(time.Duration(cfg.SessionDays) * 24 * time.Hour)
		if exp := apptest.Expiry(t, tok); exp.Before(want.Add(-time.Minute)) || exp.After(want.Add(time.Minute)) {
			t.Fatalf("expected the token to expire in %d days, got %v", cfg.SessionDays, exp)
		}
		old := time.Now().Add(-400 * 24 * time.Hour)
		forged := apptest.SignToken(t, ana, time.Hour, map[string]any{"sid": users.SessionID(tok), "authTime": old.Unix()})
		setSession(t, srv.App, users.SessionID(tok), map[string]any{sessions.FieldExpires: old.Add(time.Duration(cfg.SessionMaxDays) * 24 * time.Hour)})
		if res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, apptest.Auth(forged)); res.Status != http.StatusUnauthorized {
			t.Fatalf("expected 401, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("a token without a session is refused", func(t *testing.T) {
		own, err := ana.NewAuthToken() // PocketBase's own token: no sid
		if err != nil {
			t.Fatal(err)
		}
		requireEnded(t, srv, ana, own)
		other := apptest.CreateUser(t, srv.App, "other@example.com")
		borrowed := apptest.SignToken(t, ana, time.Hour, map[string]any{"sid": apptest.Session(t, srv.App, other)})
		requireEnded(t, srv, ana, borrowed)
	})
	t.Run("a sign-in that stops at the second factor leaves no session", func(t *testing.T) {
		mfa := apptest.CreateUser(t, srv.App, "mfa@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "mfa@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("expected 401 with an mfaId, got %d: %s", res.Status, res.Body)
		}
		if n := sessionRows(t, srv.App, mfa.Id); n != 0 {
			t.Fatalf("expected no session row, got %d", n)
		}
	})
	t.Run("last seen is written at most once a minute", func(t *testing.T) {
		tok := srv.SignIn(t, "ana@example.com", firefoxUA)
		before, _ := sessions.Find(srv.App, users.SessionID(tok))
		for range 5 {
			requireLive(t, srv, tok)
		}
		after, _ := sessions.Find(srv.App, users.SessionID(tok))
		if !after.LastSeen.Equal(before.LastSeen) {
			t.Fatalf("expected no last-seen write within a minute, got %v then %v", before.LastSeen, after.LastSeen)
		}
	})
}

func TestAccountChangesEndSessions(t *testing.T) {
	t.Parallel()

	t.Run("approval revoked: tokens refused and the feed answers 404", func(t *testing.T) {
		t.Parallel()
		cfg := apptest.Config(t)
		cfg.RegistrationApproval = true
		srv := apptest.Start(t, cfg)
		ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) { r.Set(users.FieldApproved, true) })
		tok := srv.SignIn(t, "ana@example.com", firefoxUA)
		feed := strings.TrimPrefix(createFeed(t, srv, ana), "http://127.0.0.1:8090")
		if res := srv.Do(t, "GET", feed, nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected the feed, got %d", res.Status)
		}
		fresh, _ := srv.App.FindRecordById(users.Collection, ana.Id)
		fresh.Set(users.FieldApproved, false)
		if err := srv.App.Save(fresh); err != nil {
			t.Fatal(err)
		}
		requireEnded(t, srv, ana, tok)
		if n := sessionRows(t, srv.App, ana.Id); n != 0 {
			t.Fatalf("expected no session rows, got %d", n)
		}
		if res := srv.Do(t, "GET", feed, nil, nil); res.Status != http.StatusNotFound {
			t.Fatalf("expected the feed to answer 404, got %d", res.Status)
		}
		fresh.Set(users.FieldApproved, true)
		if err := srv.App.Save(fresh); err != nil {
			t.Fatal(err)
		}
		if res := srv.Do(t, "GET", feed, nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected the feed back after the approval, got %d", res.Status)
		}
	})

	t.Run("an unverified account's feed answers 404", func(t *testing.T) {
		t.Parallel()
		srv := apptest.Start(t, apptest.Config(t))
		ana := apptest.CreateUser(t, srv.App, "ana@example.com")
		feed := strings.TrimPrefix(createFeed(t, srv, ana), "http://127.0.0.1:8090")
		fresh, _ := srv.App.FindRecordById(users.Collection, ana.Id)
		fresh.SetVerified(false)
		if err := srv.App.Save(fresh); err != nil {
			t.Fatal(err)
		}
		if res := srv.Do(t, "GET", feed, nil, nil); res.Status != http.StatusNotFound {
			t.Fatalf("expected 404, got %d", res.Status)
		}
	})

	t.Run("a password change ends the other sessions and keeps this device signed in", func(t *testing.T) {
		t.Parallel()
		srv := apptest.Start(t, apptest.Config(t))
		ana := apptest.CreateUser(t, srv.App, "ana@example.com")
		laptop := srv.SignIn(t, "ana@example.com", firefoxUA)
		phone := srv.SignIn(t, "ana@example.com", iphoneUA)
		res := srv.Do(t, "POST", "/api/user/password", map[string]any{
			"currentPassword": apptest.Password, "password": "a-new-long-password",
		}, apptest.Auth(laptop))
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		fresh, _ := res.JSON(t)["token"].(string)
		requireEnded(t, srv, ana, phone)
		requireEnded(t, srv, ana, laptop)
		requireLive(t, srv, fresh)
		if n := sessionRows(t, srv.App, ana.Id); n != 1 {
			t.Fatalf("expected this device's new session only, got %d rows", n)
		}
	})

	t.Run("a password reset ends every session", func(t *testing.T) {
		t.Parallel()
		srv := apptest.Start(t, apptest.Config(t))
		ana := apptest.CreateUser(t, srv.App, "ana@example.com")
		phone := srv.SignIn(t, "ana@example.com", iphoneUA)
		resetToken, err := ana.NewPasswordResetToken()
		if err != nil {
			t.Fatal(err)
		}
		res := srv.Do(t, "POST", "/api/collections/users/confirm-password-reset", map[string]any{
			"token": resetToken, "password": "a-new-long-password", "passwordConfirm": "a-new-long-password",
		}, nil)
		if res.Status != http.StatusNoContent {
			t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
		}
		requireEnded(t, srv, ana, phone)
		if n := sessionRows(t, srv.App, ana.Id); n != 0 {
			t.Fatalf("expected no session rows, got %d", n)
		}
	})

	t.Run("an email change ends every session", func(t *testing.T) {
		t.Parallel()
		srv := apptest.Start(t, apptest.Config(t))
		ana := apptest.CreateUser(t, srv.App, "ana@example.com")
		phone := srv.SignIn(t, "ana@example.com", iphoneUA)
		changeToken, err := ana.NewEmailChangeToken("ana.new@example.com")
		if err != nil {
			t.Fatal(err)
		}
		res := srv.Do(t, "POST", "/api/collections/users/confirm-email-change", map[string]any{
			"token": changeToken, "password": apptest.Password,
		}, nil)
		if res.Status != http.StatusNoContent {
			t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
		}
		requireEnded(t, srv, ana, phone)
		if n := sessionRows(t, srv.App, ana.Id); n != 0 {
			t.Fatalf("expected no session rows, got %d", n)
		}
	})

	t.Run("the unverified to verified upgrade ends the pre-registrant's session", func(t *testing.T) {
		t.Parallel()
		srv := apptest.Start(t, apptest.Config(t))
		ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) { r.SetVerified(false) })
		squatter := srv.SignIn(t, "ana@example.com", firefoxUA)
		fresh, _ := srv.App.FindRecordById(users.Collection, ana.Id)
		fresh.SetVerified(true)
		if err := srv.App.Save(fresh); err != nil {
			t.Fatal(err)
		}
		requireEnded(t, srv, ana, squatter)
	})

	t.Run("deleting a session row in the admin UI ends it at once", func(t *testing.T) {
		t.Parallel()
		srv := apptest.Start(t, apptest.Config(t))
		ana := apptest.CreateUser(t, srv.App, "ana@example.com")
		su := apptest.CreateSuperuser(t, srv.App, "root@example.com")
		tok := srv.SignIn(t, "ana@example.com", firefoxUA)
		requireLive(t, srv, tok) // cached now
		res := srv.Do(t, "DELETE", "/api/collections/sessions/records/"+users.SessionID(tok), nil, apptest.Auth(apptest.Token(t, srv.App, su)))
		if res.Status != http.StatusNoContent {
			t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
		}
		requireEnded(t, srv, ana, tok)
	})
}

func TestImpersonationSession(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	su := apptest.CreateSuperuser(t, srv.App, "root@example.com")
	res := srv.Do(t, "POST", "/api/collections/users/impersonate/"+ana.Id, map[string]any{"duration": 3650 * 24 * 3600},
		apptest.Auth(apptest.Token(t, srv.App, su)))
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	tok, _ := res.JSON(t)["token"].(string)
	if exp := apptest.Expiry(t, tok); exp.After(time.Now().Add(sessions.MaxImpersonation + time.Minute)) {
		t.Fatalf("expected the impersonation capped at %v, got exp %v", sessions.MaxImpersonation, exp)
	}
	requireLive(t, srv, tok)
	s, err := sessions.Find(srv.App, users.SessionID(tok))
	if err != nil || s.Method != sessions.MethodImpersonation || s.Impersonator != su.Id || s.UserID != ana.Id {
		t.Fatalf("expected an impersonation session by %s, got %+v (%v)", su.Id, s, err)
	}
	list := listSessions(t, srv, tok)
	if len(list) != 1 || list[0]["method"] != "impersonation" || list[0]["current"] != true {
		t.Fatalf("expected the impersonation listed, got %v", list)
	}
	t.Run("an impersonation token is not refreshed", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, apptest.Auth(tok))
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		if got, _ := res.JSON(t)["token"].(string); got != tok {
			t.Fatal("expected the impersonation token back unchanged")
		}
	})
}

// sseClient is a realtime connection read line by line.
type sseClient struct {
	events chan string // "event-name data"
	cancel context.CancelFunc
	id     string
}

func connectRealtime(t *testing.T, srv *apptest.Server) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/realtime", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	c := &sseClient{events: make(chan string, 16), cancel: cancel}
	go func() {
		defer close(c.events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var name string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				c.events <- name + " " + strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	first := c.next(t)
	var connect struct{ ClientID string }
	if !strings.HasPrefix(first, "PB_CONNECT ") || json.Unmarshal([]byte(strings.TrimPrefix(first, "PB_CONNECT ")), &connect) != nil {
		t.Fatalf("expected PB_CONNECT, got %q", first)
	}
	c.id = connect.ClientID
	return c
}

// next returns the next event, failing after a deadline; "" when the connection closed.
func (c *sseClient) next(t *testing.T) string {
	t.Helper()
	select {
	case ev, ok := <-c.events:
		if !ok {
			return ""
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no realtime event within 5s")
		return ""
	}
}

func TestRealtimeStopsWhenTheSessionEnds(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	tok := srv.SignIn(t, "ana@example.com", firefoxUA)
	rt := connectRealtime(t, srv)
	res := srv.Do(t, "POST", "/api/realtime", map[string]any{"clientId": rt.id, "subscriptions": []string{"users/" + ana.Id}}, apptest.Auth(tok))
	if res.Status != http.StatusNoContent {
		t.Fatalf("subscribe: expected 204, got %d: %s", res.Status, res.Body)
	}
	touch := func(length int) {
		r, _ := srv.App.FindRecordById(users.Collection, ana.Id)
		r.Set(users.FieldCycleLength, length)
		if err := srv.App.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	touch(30)
	if ev := rt.next(t); !strings.HasPrefix(ev, "users/"+ana.Id+" ") || !strings.Contains(ev, `"cycleLength":30`) {
		t.Fatalf("expected the update while the session is live, got %q", ev)
	}
	if res := srv.Do(t, "POST", "/api/user/logout", nil, apptest.Auth(tok)); res.Status != http.StatusNoContent {
		t.Fatalf("logout: expected 204, got %d", res.Status)
	}
	touch(31)
	if ev := rt.next(t); ev != "" {
		t.Fatalf("expected the connection closed after the session ended, got %q", ev)
	}
}

func TestRealtimeStopsWhenTheSessionExpires(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	tok := srv.SignIn(t, "ana@example.com", firefoxUA)
	rt := connectRealtime(t, srv)
	res := srv.Do(t, "POST", "/api/realtime", map[string]any{"clientId": rt.id, "subscriptions": []string{"users/" + ana.Id}}, apptest.Auth(tok))
	if res.Status != http.StatusNoContent {
		t.Fatalf("subscribe: expected 204, got %d: %s", res.Status, res.Body)
	}
	setSession(t, srv.App, users.SessionID(tok), map[string]any{sessions.FieldIdleExpires: time.Now().Add(-time.Second)})
	r, _ := srv.App.FindRecordById(users.Collection, ana.Id)
	r.Set(users.FieldCycleLength, 33)
	if err := srv.App.Save(r); err != nil {
		t.Fatal(err)
	}
	if ev := rt.next(t); ev != "" {
		t.Fatalf("expected no event and a closed connection for an expired session, got %q", ev)
	}
}
