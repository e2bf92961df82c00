package routes_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/hook"

	"phaseflow/internal/apptest"
	"phaseflow/sessions"
	"phaseflow/users"
)

// These tests come from an attacker's review of the sessions: each asserts that an ended session
// stays ended whatever a client does meanwhile.

func refresh(t *testing.T, srv *apptest.Server, tok string) (int, string) {
	t.Helper()
	res := srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, apptest.Auth(tok))
	if res.Status != http.StatusOK {
		return res.Status, ""
	}
	token, _ := res.JSON(t)["token"].(string)
	return res.Status, token
}

// duringRefresh binds a handler between the session middleware and sessions.Issue that runs do
// once, on the next refresh: what a sign-out or an operator's edit landing while a refresh is in
// flight does.
func duringRefresh(armed *atomic.Bool, do func(e *core.RecordAuthRequestEvent) error) func(*tests.TestApp) {
	return func(app *tests.TestApp) {
		app.OnRecordAuthRequest(users.Collection).Bind(&hook.Handler[*core.RecordAuthRequestEvent]{
			Priority: 5, // after users.CheckSignIn (0), before sessions.Issue (10)
			Func: func(e *core.RecordAuthRequestEvent) error {
				if e.AuthMethod == "" && !e.HasSuperuserAuth() && armed.CompareAndSwap(true, false) {
					if err := do(e); err != nil {
						return err
					}
				}
				return e.Next()
			},
		})
	}
}

func TestSessionEndedDuringARefreshStaysEnded(t *testing.T) {
	t.Parallel()
	var armed atomic.Bool
	srv := apptest.Start(t, manySignIns(t), duringRefresh(&armed, func(e *core.RecordAuthRequestEvent) error {
		return sessions.End(e.App, e.Record.Id, users.SessionID(users.RequestToken(e.RequestEvent)))
	}))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	tok := srv.SignIn(t, "ana@example.com", firefoxUA)
	requireLive(t, srv, tok)
	armed.Store(true)
	if status, fresh := refresh(t, srv, tok); status != http.StatusUnauthorized || fresh != "" {
		t.Fatalf("expected 401 and no token for a refresh whose session ended meanwhile, got %d", status)
	}
	requireEnded(t, srv, ana, tok)
}

func TestSessionEndedByAnotherProcessCannotBeRefreshedBack(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	tok := srv.SignIn(t, "ana@example.com", firefoxUA)
	requireLive(t, srv, tok) // cached now
	// Another process deletes the row: no hook runs here, as with ./app sessions revoke.
	if _, err := srv.App.DB().Delete(sessions.Collection, dbx.HashExp{"id": users.SessionID(tok)}).Execute(); err != nil {
		t.Fatal(err)
	}
	if status, _ := refresh(t, srv, tok); status != http.StatusUnauthorized {
		t.Fatalf("expected the refresh of a deleted session refused at once, got %d", status)
	}
	requireEnded(t, srv, ana, tok)
}

func TestConcurrentSignOutAndRefreshLeaveNoWorkingToken(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	const rounds = 25
	for i := range rounds {
		tok := srv.SignIn(t, "ana@example.com", firefoxUA)
		requireLive(t, srv, tok)
		var wg sync.WaitGroup
		var refreshed string
		wg.Add(2)
		go func() { defer wg.Done(); _, refreshed = refresh(t, srv, tok) }()
		go func() { defer wg.Done(); srv.Do(t, "POST", "/api/user/logout", nil, apptest.Auth(tok)) }()
		wg.Wait()
		for _, token := range []string{tok, refreshed} {
			if token == "" {
				continue
			}
			if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(token)); res.Status != http.StatusUnauthorized {
				t.Fatalf("round %d: a token of a signed-out session still works (%d)", i, res.Status)
			}
		}
		if n := sessionRows(t, srv.App, ana.Id); n != 0 {
			t.Fatalf("round %d: expected no session rows, got %d", i, n)
		}
	}
}

func TestRequestInFlightDoesNotUndoAnOperatorsExpiry(t *testing.T) {
	t.Parallel()
	var armed atomic.Bool
	srv := apptest.Start(t, manySignIns(t), duringRefresh(&armed, func(e *core.RecordAuthRequestEvent) error {
		r, err := e.App.FindRecordById(sessions.Collection, users.SessionID(users.RequestToken(e.RequestEvent)))
		if err != nil {
			return err
		}
		r.Set(sessions.FieldIdleExpires, time.Now().Add(-time.Minute)) // the operator ends it
		return e.App.Save(r)
	}))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	tok := srv.SignIn(t, "ana@example.com", firefoxUA)
	armed.Store(true)
	if status, _ := refresh(t, srv, tok); status != http.StatusUnauthorized {
		t.Fatalf("expected 401, got %d", status)
	}
	s, err := sessions.Find(srv.App, users.SessionID(tok))
	if err != nil || s.IdleExpires.After(time.Now()) {
		t.Fatalf("expected the operator's past expiry kept, got %v (%v)", s.IdleExpires, err)
	}
	requireEnded(t, srv, ana, tok)
}

func TestAnonymousRefreshAndImpersonateAttemptsAreAuditedOncePerMinute(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	for range 20 {
		srv.Do(t, "POST", "/api/collections/users/auth-refresh", nil, nil)
		srv.Do(t, "POST", "/api/collections/users/impersonate/"+ana.Id, map[string]any{}, nil)
	}
	if n := len(apptest.AuthEvents(t, srv.App, "")); n != 2 {
		t.Fatalf("expected 2 rows (one per method and address per minute), got %d", n)
	}
	if n := len(apptest.AuthEvents(t, srv.App, "user = {:u}", map[string]any{"u": ana.Id})); n != 0 {
		t.Fatalf("expected no row in the account's activity, got %d", n)
	}
}

func TestAnMFAIDInTheBodyIsNoSecondFactor(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com") // mfa off
	res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
		map[string]string{"identity": "ana@example.com", "password": apptest.Password, "mfaId": "anything"}, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	tok, _ := res.JSON(t)["token"].(string)
	s, _ := sessions.Find(srv.App, users.SessionID(tok))
	evs := apptest.AuthEvents(t, srv.App, "user = {:u} && secondFactor = true", map[string]any{"u": ana.Id})
	if s.Method != "password" || len(evs) != 0 {
		t.Fatalf("expected a one-factor sign-in recorded as password, got method %q and %d second-factor rows", s.Method, len(evs))
	}
}
