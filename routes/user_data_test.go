package routes_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/account"
	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/internal/apptest"
	"phaseflow/sessions"
	"phaseflow/throttle"
	"phaseflow/users"
)

// dataConfig is the configuration of the account-data tests: a ledger in the test's own
// temporary dir, and a sign-in budget the many sign-ins of one test do not exhaust.
func dataConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := apptest.Config(t)
	cfg.AuthRateLimit = 1000
	cfg.ErasureLedger = filepath.Join(t.TempDir(), "erasures")
	return cfg
}

// staleToken is a token of a session whose sign-in was 11 minutes ago: no proof of presence.
func staleToken(t *testing.T, srv *apptest.Server, user *core.Record) string {
	t.Helper()
	return apptest.SignToken(t, user, time.Hour, map[string]any{
		users.ClaimAuthTime: time.Now().Add(-users.RecentSignIn - time.Minute).Unix(), users.ClaimSessionID: apptest.Session(t, srv.App, user),
	})
}

// secretsOf are the stored secrets of an account, none of which may ever leave the server.
func secretsOf(t *testing.T, app core.App, id string) map[string]string {
	t.Helper()
	r, err := app.FindRecordById(users.Collection, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{
		"tokenKey":          r.TokenKey(),
		"password hash":     r.GetString("password:hash"),
		"calendarTokenHash": r.GetString(users.FieldCalendarTokenHash),
	}
	for k, v := range out {
		if v == "" {
			t.Fatalf("expected the account to have a %s", k)
		}
	}
	return out
}

func TestUserExport(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, dataConfig(t))
	last := time.Now().UTC().AddDate(0, 0, -4).Format(time.DateOnly)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) {
		r.Set(users.FieldName, "Ana Example")
		r.Set(users.FieldCycleLength, 31)
		r.Set(users.FieldLastPeriodDate, last+" 00:00:00.000Z")
		r.Set(users.FieldTimezone, "Europe/Berlin")
	})
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	feedPath, anaToken := srv.FillAccount(t, ana)
	srv.FillAccount(t, bob)
	feedToken := strings.TrimSuffix(feedPath[strings.LastIndex(feedPath, "/")+1:], ".ics")

	t.Run("without a token it is 401", func(t *testing.T) {
		if res := srv.Do(t, "GET", "/api/user/export", nil, nil); res.Status != http.StatusUnauthorized {
			t.Fatalf("expected 401, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("a superuser token is 403", func(t *testing.T) {
		su := apptest.CreateSuperuser(t, srv.App, "root@example.com")
		res := srv.Do(t, "GET", "/api/user/export", nil, apptest.Auth(apptest.Token(t, srv.App, su)))
		if res.Status != http.StatusForbidden || strings.Contains(string(res.Body), ana.Email()) {
			t.Fatalf("expected 403 and no data, got %d: %s", res.Status, res.Body)
		}
	})
	for name, tok := range map[string]func() string{
		"a session without a sign-in time": func() string { return apptest.Token(t, srv.App, ana) },
		"a sign-in 11 minutes ago":         func() string { return staleToken(t, srv, ana) },
	} {
		t.Run(name+" is refused with 403", func(t *testing.T) {
			before := len(apptest.AuthEvents(t, srv.App, "method = 'account_export' && outcome = 'failure' && user = {:u}", map[string]any{"u": ana.Id}))
			res := srv.Do(t, "GET", "/api/user/export", nil, apptest.Auth(tok()))
			if res.Status != http.StatusForbidden || res.JSON(t)["message"] != routesMsgExportNeedsSignIn ||
				strings.Contains(string(res.Body), "Europe/Berlin") {
				t.Fatalf("expected 403 asking for a sign-in and no data, got %d: %s", res.Status, res.Body)
			}
			after := len(apptest.AuthEvents(t, srv.App, "method = 'account_export' && outcome = 'failure' && user = {:u}", map[string]any{"u": ana.Id}))
			if after != before+1 {
				t.Fatalf("expected the refusal audited once, got %d → %d rows", before, after)
			}
		})
	}

	t.Run("a token whose sign-in time was forged is 401", func(t *testing.T) {
		forged := apptest.ForgeClaim(t, staleToken(t, srv, ana), users.ClaimAuthTime, time.Now().Unix())
		res := srv.Do(t, "GET", "/api/user/export", nil, apptest.Auth(forged))
		if res.Status != http.StatusUnauthorized || strings.Contains(string(res.Body), ana.Email()) {
			t.Fatalf("expected 401 and no data, got %d: %s", res.Status, res.Body)
		}
	})

	secrets := secretsOf(t, srv.App, ana.Id)
	current, err := sessions.Find(srv.App, apptest.Claims(t, anaToken)[users.ClaimSessionID].(string))
	if err != nil {
		t.Fatal(err)
	}
	res := srv.Do(t, "GET", "/api/user/export", nil, apptest.Auth(anaToken))
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200 after a fresh sign-in, got %d: %s", res.Status, res.Body)
	}
	var got account.Export
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatalf("expected the export document, got %s: %v", res.Body, err)
	}

	t.Run("it is a JSON attachment that is never cached", func(t *testing.T) {
		want := map[string]string{
			"Content-Type":        "application/json",
			"Content-Disposition": `attachment; filename="phaseflow-export-` + time.Now().UTC().Format(time.DateOnly) + `.json"`,
			"Cache-Control":       "no-store",
		}
		for k, v := range want {
			if g := res.Header.Get(k); g != v {
				t.Fatalf("expected %s %q, got %q", k, v, g)
			}
		}
	})
	t.Run("it holds the versioned profile, feed state, identities, sessions and events", func(t *testing.T) {
		p := got.Profile
		if got.Format != "phaseflow-account-export" || got.Version != 1 || got.ExportedAt == "" {
			t.Fatalf("expected format phaseflow-account-export version 1, got %q %d %q", got.Format, got.Version, got.ExportedAt)
		}
		if p.ID != ana.Id || p.Email != "ana@example.com" || p.Name != "Ana Example" || !p.Verified || !p.Approved || p.MFA ||
			p.CycleLength != 31 || p.LastPeriodDate == nil || *p.LastPeriodDate != last || p.Timezone != "Europe/Berlin" ||
			p.Created == "" || p.Updated == "" {
			t.Fatalf("unexpected profile %+v", p)
		}
		if !got.CalendarFeed.Active {
			t.Fatal("expected the feed to be active")
		}
		if len(got.LinkedIdentities) != 1 || got.LinkedIdentities[0] != (account.ExportIdentity{
			Provider: "oidc", ProviderID: "subject-" + ana.Id, Created: got.LinkedIdentities[0].Created,
		}) || got.LinkedIdentities[0].Created == "" {
			t.Fatalf("expected the one oidc identity, got %+v", got.LinkedIdentities)
		}
		rows := apptest.AccountRows(t, srv.App, ana.Id, ana.Email())
		if int64(len(got.Sessions)) != rows[sessions.Collection] || len(got.Sessions) < 2 {
			t.Fatalf("expected Ana's %d sessions, got %+v", rows[sessions.Collection], got.Sessions)
		}
		currents := 0
		for _, s := range got.Sessions {
			if s.Current {
				currents++
				if s.Device != current.Device || s.Method != "password" || s.IP != "127.0.0.1" {
					t.Fatalf("expected the current session to be the sign-in's, got %+v", s)
				}
			}
		}
		if currents != 1 {
			t.Fatalf("expected exactly one current session, got %d", currents)
		}
		// The export's own audit row comes after the document was read.
		if int64(len(got.AuthEvents)) != rows[audit.Collection]-1 || len(got.AuthEvents) < 3 {
			t.Fatalf("expected Ana's %d auth events, got %d", rows[audit.Collection]-1, len(got.AuthEvents))
		}
		methods := map[string]bool{}
		for _, ev := range got.AuthEvents {
			methods[ev.Method+" "+ev.Outcome] = true
		}
		for _, want := range []string{"password failure", "password success", "calendar_token success"} {
			if !methods[want] {
				t.Fatalf("expected a %q event, got %v", want, methods)
			}
		}
	})
	t.Run("it holds no secret of the account", func(t *testing.T) {
		body := string(res.Body)
		leaks := maps.Clone(secrets)
		leaks["session token"] = anaToken
		leaks["feed token"] = feedToken
		leaks["session id"] = current.ID
		for name, secret := range leaks {
			if strings.Contains(body, secret) {
				t.Fatalf("the export holds the %s", name)
			}
		}
		for _, field := range []string{"tokenKey", "password", "calendarTokenHash", "idToken", "codeHash"} {
			if strings.Contains(body, `"`+field+`":`) {
				t.Fatalf("the export has a %q field", field)
			}
		}
	})
	t.Run("it holds nothing of another account", func(t *testing.T) {
		body := string(res.Body)
		for _, other := range []string{bob.Id, bob.Email(), "subject-" + bob.Id} {
			if strings.Contains(body, other) {
				t.Fatalf("Ana's export holds Bob's %q", other)
			}
		}
	})
	t.Run("a success is audited", func(t *testing.T) {
		if evs := apptest.AuthEvents(t, srv.App, "method = 'account_export' && outcome = 'success' && user = {:u}", map[string]any{"u": ana.Id}); len(evs) != 1 {
			t.Fatalf("expected one audited export, got %d", len(evs))
		}
	})
}

// routesMsgExportNeedsSignIn is the refusal of an export without a recent sign-in.
const routesMsgExportNeedsSignIn = "Downloading your data needs a recent sign-in: sign out, sign in again, and download it within 10 minutes."

// deleteBody is a DELETE /api/user body.
func deleteBody(email, password string) map[string]string {
	b := map[string]string{"confirmEmail": email}
	if password != "" {
		b["password"] = password
	}
	return b
}

func TestUserDeleteRefusals(t *testing.T) {
	t.Parallel()
	cfg := dataConfig(t)
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	_, fresh := srv.FillAccount(t, ana)
	srv.FillAccount(t, bob)
	stale := staleToken(t, srv, ana)
	su := apptest.CreateSuperuser(t, srv.App, "root@example.com")
	lockKey := throttle.AccountKey(ana.Collection().Id, ana.Email())

	failures := func() int {
		r, err := srv.App.FindFirstRecordByData(throttle.LocksCollection, throttle.FieldKey, lockKey)
		if err != nil {
			t.Fatalf("expected Ana's auth_locks row: %v", err)
		}
		return r.GetInt(throttle.FieldFailures)
	}
	scenarios := []struct {
		name    string
		token   string
		body    any
		status  int
		message string
		field   string
		// counted: a wrong password counts towards the account's lock.
		counted bool
	}{
		{name: "without a token", body: deleteBody("ana@example.com", ""), status: 401},
		{name: "with a superuser token", token: apptest.Token(t, srv.App, su), body: deleteBody("ana@example.com", ""), status: 403},
		{name: "without a body", token: fresh, status: 400, message: `Send {"confirmEmail": "<your account's email>"}, with "password" unless you signed in within the last 10 minutes.`},
		{name: "with malformed JSON", token: fresh, body: `{"confirmEmail":`, status: 400},
		{name: "with an unknown field", token: fresh, body: `{"confirmEmail":"ana@example.com","force":true}`, status: 400},
		{name: "with two JSON values", token: fresh, body: `{"confirmEmail":"ana@example.com"} {}`, status: 400},
		{name: "without the confirming email", token: fresh, body: `{}`, status: 400, message: "Type your account's email address to confirm.", field: "confirmEmail"},
		{name: "with another account's email", token: fresh, body: deleteBody("bob@example.com", ""), status: 400, field: "confirmEmail"},
		{name: "with a forged sign-in time", token: apptest.ForgeClaim(t, stale, users.ClaimAuthTime, time.Now().Unix()),
			body: deleteBody("ana@example.com", ""), status: 401},
		{name: "with a sign-in 11 minutes ago and no password", token: stale, body: deleteBody("ana@example.com", ""), status: 403,
			message: "Confirm it is you: enter your password, or sign in again and try within 10 minutes."},
		{name: "with a wrong password", token: stale, body: deleteBody("ana@example.com", "wrong-password-123"), status: 400,
			field: "password", counted: true},
		{name: "with a wrong password even right after a sign-in", token: fresh, body: deleteBody("ana@example.com", "wrong-password-123"),
			status: 400, field: "password", counted: true},
	}
	for _, s := range scenarios {
		t.Run("DELETE /api/user "+s.name+" is refused and changes nothing", func(t *testing.T) {
			before, rowsAna, rowsBob := apptest.UsersSnapshot(t, srv.App), apptest.AccountRows(t, srv.App, ana.Id, ana.Email()),
				apptest.AccountRows(t, srv.App, bob.Id, bob.Email())
			lockBefore := failures()
			headers := map[string]string{}
			if s.token != "" {
				headers = apptest.Auth(s.token)
			}
			res := srv.Do(t, "DELETE", "/api/user", s.body, headers)
			if res.Status != s.status {
				t.Fatalf("expected %d, got %d: %s", s.status, res.Status, res.Body)
			}
			out := res.JSON(t)
			if s.message != "" && out["message"] != s.message {
				t.Fatalf("expected %q, got %q", s.message, out["message"])
			}
			if s.field != "" {
				data, _ := out["data"].(map[string]any)
				if _, ok := data[s.field]; !ok || len(data) != 1 {
					t.Fatalf("expected an error for %s only, got %s", s.field, res.Body)
				}
			}
			if apptest.UsersSnapshot(t, srv.App) != before {
				t.Fatal("a refused deletion changed a users row")
			}
			if s.counted {
				if got := failures(); got != lockBefore+1 {
					t.Fatalf("expected the wrong password counted (%d → %d failures), got %d", lockBefore, lockBefore+1, got)
				}
				rowsAna[audit.Collection]++ // the refusal is audited
			} else if got := failures(); got != lockBefore {
				t.Fatalf("expected no failure counted, got %d → %d", lockBefore, got)
			}
			if s.status == http.StatusForbidden && s.token == stale {
				rowsAna[audit.Collection]++ // so is a missing proof of presence
			}
			if got := apptest.AccountRows(t, srv.App, ana.Id, ana.Email()); !maps.Equal(got, rowsAna) {
				t.Fatalf("expected Ana's rows %v, got %v", rowsAna, got)
			}
			if got := apptest.AccountRows(t, srv.App, bob.Id, bob.Email()); !maps.Equal(got, rowsBob) {
				t.Fatalf("expected Bob's rows %v, got %v", rowsBob, got)
			}
			if entries, err := account.ReadLedger(cfg.ErasureLedger); err != nil || len(entries) != 0 {
				t.Fatalf("expected an empty ledger, got %v %v", entries, err)
			}
		})
	}
	t.Run("a locked account cannot try a password", func(t *testing.T) {
		if _, err := srv.App.DB().NewQuery("UPDATE auth_locks SET lockedUntil = {:until} WHERE key = {:k}").
			Bind(map[string]any{"until": time.Now().Add(time.Hour).UTC().Format("2006-01-02 15:04:05.000Z"), "k": lockKey}).Execute(); err != nil {
			t.Fatal(err)
		}
		before := apptest.UsersSnapshot(t, srv.App)
		res := srv.Do(t, "DELETE", "/api/user", deleteBody("ana@example.com", apptest.Password), apptest.Auth(stale))
		if res.Status != http.StatusTooManyRequests || apptest.UsersSnapshot(t, srv.App) != before {
			t.Fatalf("expected 429 and nothing deleted, got %d: %s", res.Status, res.Body)
		}
	})
}

func TestUserDelete(t *testing.T) {
	t.Parallel()
	cfg := dataConfig(t)
	srv := apptest.Start(t, cfg)
	lastPeriod := time.Now().UTC().AddDate(0, 0, -6).Format(time.DateOnly)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) {
		r.Set(users.FieldLastPeriodDate, lastPeriod+" 00:00:00.000Z")
	})
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	feedPath, token := srv.FillAccount(t, ana)
	bobFeed, _ := srv.FillAccount(t, bob)
	other := apptest.Token(t, srv.App, ana) // another device of Ana's
	rowsBob := apptest.AccountRows(t, srv.App, bob.Id, bob.Email())
	for col, n := range apptest.AccountRows(t, srv.App, ana.Id, ana.Email()) {
		if n == 0 {
			t.Fatalf("expected Ana to have %s rows before the deletion", col)
		}
	}
	if res := srv.Do(t, "GET", feedPath, nil, nil); res.Status != http.StatusOK {
		t.Fatalf("expected the feed to work before, got %d", res.Status)
	}
	snapshotBob := func() string {
		for line := range strings.SplitSeq(apptest.UsersSnapshot(t, srv.App), "\n") {
			if strings.Contains(line, bob.Id) {
				return line
			}
		}
		return ""
	}
	bobBefore := snapshotBob()
	start := time.Now().Add(-time.Second)

	res := srv.Do(t, "DELETE", "/api/user", deleteBody(" ANA@example.com ", ""), apptest.Auth(token))
	if res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("expected 204 right after a sign-in without a password, got %d: %s", res.Status, res.Body)
	}

	t.Run("every row of the account is gone", func(t *testing.T) {
		for col, n := range apptest.AccountRows(t, srv.App, ana.Id, ana.Email()) {
			if n != 0 {
				t.Fatalf("expected no %s rows of Ana, got %d", col, n)
			}
		}
	})
	t.Run("another account is untouched", func(t *testing.T) {
		if got := apptest.AccountRows(t, srv.App, bob.Id, bob.Email()); !maps.Equal(got, rowsBob) {
			t.Fatalf("expected Bob's rows %v, got %v", rowsBob, got)
		}
		if snapshotBob() != bobBefore || bobBefore == "" {
			t.Fatal("Bob's users row changed")
		}
		if res := srv.Do(t, "GET", bobFeed, nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected Bob's feed to work, got %d", res.Status)
		}
	})
	t.Run("one anonymised audit row stays", func(t *testing.T) {
		evs := apptest.AuthEvents(t, srv.App, "method = 'account_delete'")
		if len(evs) != 1 {
			t.Fatalf("expected one account_delete row, got %d", len(evs))
		}
		ev := evs[0]
		if ev.GetString(audit.FieldOutcome) != "success" || ev.GetString(audit.FieldReason) != account.ReasonOwner {
			t.Fatalf("unexpected row %v", ev.PublicExport())
		}
		for _, f := range []string{audit.FieldUser, audit.FieldIdentity, audit.FieldIP, audit.FieldUserAgent, audit.FieldActor} {
			if v := ev.GetString(f); v != "" {
				t.Fatalf("expected no %s in the anonymised row, got %q", f, v)
			}
		}
		raw, _ := json.Marshal(ev.PublicExport())
		if strings.Contains(string(raw), ana.Id) || strings.Contains(string(raw), "ana@") {
			t.Fatalf("the anonymised row names the account: %s", raw)
		}
		if ev.GetDateTime(audit.FieldCreated).Time().Before(start) {
			t.Fatal("expected the row to carry the time of the deletion")
		}
	})
	t.Run("the erasure is in the ledger", func(t *testing.T) {
		entries, err := account.ReadLedger(cfg.ErasureLedger)
		if err != nil || len(entries) != 1 || entries[0].ID != ana.Id || entries[0].At.Before(start.Truncate(time.Second)) {
			t.Fatalf("expected one ledger entry for %s, got %+v %v", ana.Id, entries, err)
		}
		st, err := os.Stat(cfg.ErasureLedger)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("expected the ledger to be 0600, got %v %v", st.Mode(), err)
		}
	})
	t.Run("the account can no longer sign in, its tokens and feed are dead", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "ana@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusBadRequest {
			t.Fatalf("expected the sign-in to fail with 400, got %d: %s", res.Status, res.Body)
		}
		for _, tok := range []string{token, other} {
			if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(tok)); res.Status != http.StatusUnauthorized {
				t.Fatalf("expected 401 for an old token, got %d: %s", res.Status, res.Body)
			}
		}
		if res := srv.Do(t, "GET", feedPath, nil, nil); res.Status != http.StatusNotFound {
			t.Fatalf("expected the feed to answer 404, got %d", res.Status)
		}
	})
	t.Run("a confirmation goes to the former address, without health data", func(t *testing.T) {
		apptest.Eventually(t, 5*time.Second, "the confirmation", func() bool {
			for _, m := range srv.App.TestMailer.Messages() {
				if m.To[0].Address == "ana@example.com" && m.Subject == "Your PhaseFlow account was deleted" {
					return true
				}
			}
			return false
		})
		for _, m := range srv.App.TestMailer.Messages() {
			if m.Subject != "Your PhaseFlow account was deleted" {
				continue
			}
			for _, health := range []string{lastPeriod, "period", "menstrual", "follicular", "ovulation", "luteal"} {
				if strings.Contains(strings.ToLower(m.Text+m.Subject), health) {
					t.Fatalf("the confirmation holds %q: %s", health, m.Text)
				}
			}
		}
	})
	t.Run("the password proves presence after an old sign-in", func(t *testing.T) {
		carl := apptest.CreateUser(t, srv.App, "carl@example.com")
		res := srv.Do(t, "DELETE", "/api/user", deleteBody("carl@example.com", apptest.Password), apptest.Auth(staleToken(t, srv, carl)))
		if res.Status != http.StatusNoContent {
			t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
		}
		if _, err := srv.App.FindRecordById(users.Collection, carl.Id); err == nil {
			t.Fatal("expected Carl's account to be gone")
		}
	})
}

// TestUserDeleteRefusedWhenTheLedgerWentMissing: a ledger removed while the server runs is not
// created again with this one erasure in it (the earlier ones would be lost); the deletion is
// refused and nothing changes.
func TestUserDeleteRefusedWhenTheLedgerWentMissing(t *testing.T) {
	t.Parallel()
	cfg := dataConfig(t)
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	token := srv.SignIn(t, "ana@example.com", "test")
	if err := os.Remove(cfg.ErasureLedger); err != nil {
		t.Fatal(err)
	}
	before := apptest.UsersSnapshot(t, srv.App)
	res := srv.Do(t, "DELETE", "/api/user", deleteBody("ana@example.com", ""), apptest.Auth(token))
	if res.Status != http.StatusServiceUnavailable {
		t.Fatalf("expected 503, got %d: %s", res.Status, res.Body)
	}
	if _, err := os.Stat(cfg.ErasureLedger); !os.IsNotExist(err) {
		t.Fatalf("expected no new ledger, got %v", err)
	}
	if apptest.UsersSnapshot(t, srv.App) != before {
		t.Fatal("the account changed")
	}
	if _, err := srv.App.FindRecordById(users.Collection, ana.Id); err != nil {
		t.Fatalf("expected Ana's account to remain: %v", err)
	}
}

// TestUserDeleteFailsClosed: when the erasure ledger cannot be written, no path deletes an
// account, so an erasure is never only in the database.
func TestUserDeleteFailsClosed(t *testing.T) {
	t.Parallel()
	cfg := dataConfig(t)
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	srv.FillAccount(t, ana)
	token := srv.SignIn(t, "ana@example.com", "test")
	// The ledger the start created becomes a directory: it can no longer be appended to.
	if err := os.Remove(cfg.ErasureLedger); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(cfg.ErasureLedger, 0o700); err != nil {
		t.Fatal(err)
	}
	before, rows := apptest.UsersSnapshot(t, srv.App), apptest.AccountRows(t, srv.App, ana.Id, ana.Email())

	res := srv.Do(t, "DELETE", "/api/user", deleteBody("ana@example.com", ""), apptest.Auth(token))
	if res.Status != http.StatusServiceUnavailable || res.JSON(t)["message"] != "Your account cannot be deleted right now; nothing was changed. Try again later, or ask the operator." {
		t.Fatalf("expected 503, got %d: %s", res.Status, res.Body)
	}
	su := apptest.CreateSuperuser(t, srv.App, "root@example.com")
	res = srv.Do(t, "DELETE", "/api/collections/users/records/"+ana.Id, nil, apptest.Auth(apptest.Token(t, srv.App, su)))
	if res.Status != http.StatusBadRequest {
		t.Fatalf("expected the admin API's deletion to be refused with 400 too, got %d: %s", res.Status, res.Body)
	}
	if apptest.UsersSnapshot(t, srv.App) != before {
		t.Fatal("the account changed")
	}
	if got := apptest.AccountRows(t, srv.App, ana.Id, ana.Email()); !maps.Equal(got, rows) {
		t.Fatalf("expected the account's rows %v, got %v", rows, got)
	}
	if n := len(apptest.AuthEvents(t, srv.App, "method = 'account_delete' && outcome = 'success'")); n != 0 {
		t.Fatalf("expected no erasure audited, got %d", n)
	}
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(token)); res.Status != http.StatusOK {
		t.Fatalf("expected the session to work on, got %d", res.Status)
	}
}

// TestSuperuserDeletionIsAnErasure: deleting an account in the admin UI (PocketBase's record API)
// erases it the same way: the email's rows, an anonymised audit row, the ledger.
func TestSuperuserDeletionIsAnErasure(t *testing.T) {
	t.Parallel()
	cfg := dataConfig(t)
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	srv.FillAccount(t, ana)
	su := apptest.CreateSuperuser(t, srv.App, "root@example.com")

	res := srv.Do(t, "DELETE", "/api/collections/users/records/"+ana.Id, nil, apptest.Auth(apptest.Token(t, srv.App, su)))
	if res.Status != http.StatusNoContent {
		t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
	}
	for col, n := range apptest.AccountRows(t, srv.App, ana.Id, ana.Email()) {
		if n != 0 {
			t.Fatalf("expected no %s rows of Ana, got %d", col, n)
		}
	}
	evs := apptest.AuthEvents(t, srv.App, "method = 'account_delete' && user = ''")
	if len(evs) != 1 || evs[0].GetString(audit.FieldReason) != account.ReasonOther {
		t.Fatalf("expected one anonymised row saying a superuser or command deleted it, got %d", len(evs))
	}
	if entries, err := account.ReadLedger(cfg.ErasureLedger); err != nil || len(entries) != 1 || entries[0].ID != ana.Id {
		t.Fatalf("expected the erasure in the ledger, got %+v %v", entries, err)
	}
}
