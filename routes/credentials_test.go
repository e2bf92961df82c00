package routes_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/audit"
	"phaseflow/internal/apptest"
	"phaseflow/throttle"
	"phaseflow/users"
)

// passwordAttempt signs in to email with password from the client address ip.
func passwordAttempt(t *testing.T, srv *apptest.Server, ip, collection, email, password string) apptest.Response {
	t.Helper()
	return srv.DoFrom(t, ip, "POST", "/api/collections/"+collection+"/auth-with-password",
		map[string]string{"identity": email, "password": password}, nil)
}

func TestOneSignInBudgetPerClientAcrossMethods(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t) // AUTH_RATE_LIMIT 5 per minute
	srv := apptest.Start(t, cfg)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	const client = "127.0.0.21"
	attempts := []struct {
		path string
		body map[string]any
	}{
		{"/api/collections/users/auth-with-password", map[string]any{"identity": "ana@example.com", "password": "wrong-guess-one"}},
		{"/api/collections/users/auth-with-otp", map[string]any{"otpId": "nosuchotp123456", "password": "12345678"}},
		{"/api/collections/users/auth-with-oauth2", map[string]any{"provider": "oidc", "code": "x", "codeVerifier": "y", "redirectURL": cfg.OAuth2RedirectURL()}},
		{"/api/collections/users/auth-with-password", map[string]any{"identity": "ana@example.com", "password": "wrong-guess-two"}},
		{"/api/collections/_superusers/auth-with-password", map[string]any{"identity": "root@example.com", "password": "wrong-guess"}},
	}
	for i, a := range attempts {
		if res := srv.DoFrom(t, client, "POST", a.path, a.body, nil); res.Status == http.StatusTooManyRequests {
			t.Fatalf("attempt %d (%s) was refused early: %s", i+1, a.path, res.Body)
		}
	}
	for _, a := range attempts[:3] {
		res := srv.DoFrom(t, client, "POST", a.path, a.body, nil)
		if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("expected the 6th attempt (%s) refused with 429 and Retry-After, got %d %q", a.path, res.Status, res.Header.Get("Retry-After"))
		}
	}
	// The right password waits too, and another client has its own budget.
	if res := passwordAttempt(t, srv, client, "users", "ana@example.com", apptest.Password); res.Status != http.StatusTooManyRequests {
		t.Fatalf("expected the right password to wait, got %d", res.Status)
	}
	if res := passwordAttempt(t, srv, "127.0.0.22", "users", "ana@example.com", apptest.Password); res.Status != http.StatusOK {
		t.Fatalf("expected another client's budget untouched, got %d: %s", res.Status, res.Body)
	}
	// Code requests have their own budget.
	if res := srv.DoFrom(t, client, "POST", "/api/collections/users/request-otp", map[string]string{"email": "ana@example.com"}, nil); res.Status != http.StatusOK {
		t.Fatalf("expected a code request to draw from its own budget, got %d", res.Status)
	}
	if evs := apptest.AuthEvents(t, srv.App, "outcome = 'rate_limited' && ip = '127.0.0.21'"); len(evs) != 3 {
		t.Fatalf("expected one audited refusal per method and minute, got %d", len(evs))
	}
}

func TestManyAddressesAgainstOneAccountLockIt(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t) // 10 failures in 15 minutes lock
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	// 8 addresses, each well inside its own budget.
	failures := 0
	for round := 0; round < 2; round++ {
		for i := 1; i <= 8 && failures < cfg.AccountLockFailures; i++ {
			res := passwordAttempt(t, srv, fmt.Sprintf("127.0.1.%d", i), "users", "ana@example.com", fmt.Sprintf("guess-%d-%d-abc", round, i))
			if res.Status != http.StatusBadRequest {
				t.Fatalf("failure %d: expected 400, got %d: %s", failures+1, res.Status, res.Body)
			}
			failures++
		}
	}
	locked := passwordAttempt(t, srv, "127.0.1.99", "users", "ana@example.com", apptest.Password)
	if locked.Status != http.StatusTooManyRequests || !strings.Contains(string(locked.Body), "locked") || locked.Header.Get("Retry-After") == "" {
		t.Fatalf("expected the right password from a fresh address refused, got %d %s", locked.Status, locked.Body)
	}
	if n := len(apptest.AuthEvents(t, srv.App, "method = 'account_lock' && user = {:u}", map[string]any{"u": ana.Id})); n != 1 {
		t.Fatalf("expected the lock audited once, got %d", n)
	}
	if n := len(apptest.AuthEvents(t, srv.App, "method = 'password' && outcome = 'locked' && user = {:u}", map[string]any{"u": ana.Id})); n != 1 {
		t.Fatalf("expected the refused attempt audited as locked, got %d", n)
	}
	apptest.Eventually(t, 5*time.Second, "the lock notice", func() bool { return srv.App.TestMailer.TotalSend() == 1 })
	if m := srv.App.TestMailer.LastMessage(); m.To[0].Address != "ana@example.com" || !strings.Contains(m.Subject, "locked") {
		t.Fatalf("expected the owner told of the lock, got %q to %v", m.Subject, m.To)
	}

	t.Run("email-code sign-in is locked too", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/request-otp", map[string]string{"email": "ana@example.com"}, nil)
		otpID, _ := res.JSON(t)["otpId"].(string)
		apptest.Eventually(t, 5*time.Second, "the code", func() bool { return srv.App.TestMailer.TotalSend() == 2 })
		code := lastCode(t, srv)
		if res := srv.DoFrom(t, "127.0.1.98", "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otpID, "password": code}, nil); res.Status != http.StatusTooManyRequests {
			t.Fatalf("expected the right code refused while locked, got %d", res.Status)
		}
	})

	t.Run("a password reset by email unlocks", func(t *testing.T) {
		token, _ := ana.NewPasswordResetToken()
		res := srv.Do(t, "POST", "/api/collections/users/confirm-password-reset", map[string]any{
			"token": token, "password": "a brand new passphrase", "passwordConfirm": "a brand new passphrase"}, nil)
		if res.Status != http.StatusNoContent {
			t.Fatalf("reset: expected 204, got %d: %s", res.Status, res.Body)
		}
		if res := passwordAttempt(t, srv, "127.0.1.97", "users", "ana@example.com", "a brand new passphrase"); res.Status != http.StatusOK {
			t.Fatalf("expected the new password to work at once, got %d: %s", res.Status, res.Body)
		}
	})
}

func TestLocksDoubleAndCoverUnknownAddressesAndSuperusers(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AccountLockFailures = 3
	srv := apptest.Start(t, cfg)
	apptest.CreateSuperuser(t, srv.App, "root@example.com")
	lockOut := func(collection, email string, from int) apptest.Response {
		for i := 0; i < cfg.AccountLockFailures; i++ {
			passwordAttempt(t, srv, fmt.Sprintf("127.0.2.%d", from+i), collection, email, "wrong-guess-xyz")
		}
		return passwordAttempt(t, srv, fmt.Sprintf("127.0.2.%d", from+cfg.AccountLockFailures), collection, email, "wrong-guess-xyz")
	}
	unknown := lockOut("users", "nobody@example.com", 1)
	if unknown.Status != http.StatusTooManyRequests {
		t.Fatalf("expected an unknown address locked like a real one (no enumeration), got %d", unknown.Status)
	}
	su := lockOut("_superusers", "root@example.com", 20)
	if su.Status != http.StatusTooManyRequests || string(su.Body) != string(unknown.Body) {
		t.Fatalf("expected the superuser locked with the same answer, got %d %s", su.Status, su.Body)
	}
	if srv.App.TestMailer.TotalSend() != 0 {
		apptest.Eventually(t, 5*time.Second, "one mail", func() bool { return srv.App.TestMailer.TotalSend() == 1 })
	}

	// The second lock in a row lasts twice as long.
	key := throttle.AccountKey("_pb_users_auth_", "nobody@example.com")
	first, _ := throttle.Locked(srv.App, key, time.Now())
	if d := time.Until(first); d < 14*time.Minute || d > 15*time.Minute {
		t.Fatalf("expected a first lock of 15 minutes, got %v", d)
	}
	if _, err := srv.App.DB().NewQuery("UPDATE auth_locks SET lockedUntil = '2000-01-01 00:00:00.000Z' WHERE key = {:k}").
		Bind(map[string]any{"k": key}).Execute(); err != nil {
		t.Fatal(err)
	}
	lockOut("users", "nobody@example.com", 40)
	second, _ := throttle.Locked(srv.App, key, time.Now())
	if d := time.Until(second); d < 29*time.Minute || d > 30*time.Minute {
		t.Fatalf("expected the second lock to last 30 minutes, got %v", d)
	}
}

func TestRecordAPICannotChangeCredentials(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	auth := apptest.Auth(apptest.Token(t, srv.App, ana))
	for i, body := range []map[string]any{
		{"oldPassword": "guess-number-one", "password": "a new long passphrase", "passwordConfirm": "a new long passphrase"},
		{"oldPassword": apptest.Password, "password": "a new long passphrase", "passwordConfirm": "a new long passphrase"},
	} {
		// A refused update rule answers 404: no "wrong password" oracle, right or wrong.
		if res := srv.Do(t, "PATCH", "/api/collections/users/records/"+ana.Id, body, auth); res.Status != http.StatusNotFound {
			t.Fatalf("attempt %d: expected 404, got %d: %s", i, res.Status, res.Body)
		}
	}
	// PocketBase ignores a new password without the old one, and an email, in an owner's update
	// (the snapshot below checks that nothing changed).
	srv.Do(t, "PATCH", "/api/collections/users/records/"+ana.Id, map[string]any{"password": "a new long passphrase", "passwordConfirm": "a new long passphrase"}, auth)
	srv.Do(t, "PATCH", "/api/collections/users/records/"+ana.Id, map[string]any{"email": "eve@example.com"}, auth)
	srv.Do(t, "PATCH", "/api/collections/users/records/"+ana.Id, map[string]any{"tokenKey": strings.Repeat("a", 40)}, auth)
	after, _ := srv.App.FindRecordById(users.Collection, ana.Id)
	if !after.ValidatePassword(apptest.Password) || after.TokenKey() != ana.TokenKey() || after.Email() != "ana@example.com" {
		t.Fatal("the record API changed a credential")
	}
}

// TestPasswordChangeKeepsTheSignInTime: a change proven by a recent sign-in alone answers with a
// token that keeps that sign-in's time, so changing the password again and again does not keep
// the recent-sign-in window open.
func TestPasswordChangeKeepsTheSignInTime(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	signedIn := time.Now().Add(-5 * time.Minute).Unix()
	token := apptest.SignToken(t, ana, time.Hour, map[string]any{
		"sid": apptest.Session(t, srv.App, ana), users.ClaimAuthTime: signedIn})
	res := srv.Do(t, "POST", "/api/user/password", map[string]string{"password": "lantern otter violet"}, apptest.Auth(token))
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	fresh, _ := res.JSON(t)["token"].(string)
	if got := apptest.Claims(t, fresh)[users.ClaimAuthTime]; got != float64(signedIn) {
		t.Fatalf("expected the sign-in time %d kept, got %v", signedIn, got)
	}
	res = srv.Do(t, "POST", "/api/user/password", map[string]string{
		"currentPassword": "lantern otter violet", "password": "violet otter lantern"}, apptest.Auth(fresh))
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	proven, _ := res.JSON(t)["token"].(string)
	if got, _ := apptest.Claims(t, proven)[users.ClaimAuthTime].(float64); int64(got) <= signedIn {
		t.Fatalf("expected a proven password to count as a fresh sign-in, got %v", got)
	}
}

func TestPasswordChange(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	old := apptest.Token(t, srv.App, ana) // no recent sign-in
	phone := srv.SignIn(t, "ana@example.com", iphoneUA)
	before := apptest.UsersSnapshot(t, srv.App)
	refused := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no proof of presence", map[string]string{"password": "a fresh long passphrase"}, http.StatusForbidden, ""},
		{"a wrong current password", map[string]string{"currentPassword": "not-it-at-all", "password": "a fresh long passphrase"}, http.StatusBadRequest, "currentPassword"},
		{"a common new password", map[string]string{"currentPassword": apptest.Password, "password": "password123456789"}, http.StatusBadRequest, "password"},
		{"a short new password", map[string]string{"currentPassword": apptest.Password, "password": "short-pass"}, http.StatusBadRequest, "password"},
		{"a new password over 71 bytes", map[string]string{"currentPassword": apptest.Password, "password": strings.Repeat("kiwi ", 15)}, http.StatusBadRequest, "password"},
		{"an unknown field", map[string]string{"password": "a fresh long passphrase", "extra": "x"}, http.StatusBadRequest, ""},
	}
	for _, c := range refused {
		t.Run(c.name+" is refused", func(t *testing.T) {
			res := srv.Do(t, "POST", "/api/user/password", c.body, apptest.Auth(old))
			if res.Status != c.status {
				t.Fatalf("expected %d, got %d: %s", c.status, res.Status, res.Body)
			}
			if c.field != "" && !strings.Contains(string(res.Body), `"`+c.field+`":{"code":`) {
				t.Fatalf("expected a field error for %s, got %s", c.field, res.Body)
			}
		})
	}
	if apptest.UsersSnapshot(t, srv.App) != before {
		t.Fatal("a refused change changed the account")
	}
	res := srv.Do(t, "POST", "/api/user/password", map[string]string{
		"currentPassword": apptest.Password, "password": "a fresh long passphrase"}, apptest.Auth(old))
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	fresh, _ := res.JSON(t)["token"].(string)
	requireLive(t, srv, fresh)
	requireEnded(t, srv, ana, phone)
	requireEnded(t, srv, ana, old)
	t.Run("a sign-in within 10 minutes is proof enough, and sets a password for an account without one", func(t *testing.T) {
		signedIn := passwordAttempt(t, srv, "", "users", "ana@example.com", "a fresh long passphrase")
		recent, _ := signedIn.JSON(t)["token"].(string)
		res := srv.Do(t, "POST", "/api/user/password", map[string]string{"password": "yet another long passphrase"}, apptest.Auth(recent))
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
	})
	if evs := apptest.AuthEvents(t, srv.App, "method = 'password_change' && user = {:u}", map[string]any{"u": ana.Id}); len(evs) != 4 {
		t.Fatalf("expected 2 refusals and 2 changes audited, got %d", len(evs))
	}
}

func TestEmailsAreCaseInsensitive(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	if res := passwordAttempt(t, srv, "", "users", "ANA@Example.com", apptest.Password); res.Status != http.StatusOK || !strings.Contains(string(res.Body), ana.Id) {
		t.Fatalf("expected ANA@Example.com to sign in to ana's account, got %d: %s", res.Status, res.Body)
	}
	res := srv.Do(t, "POST", "/api/collections/users/request-otp", map[string]string{"email": "Ana@EXAMPLE.com"}, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("request-otp: %d", res.Status)
	}
	apptest.Eventually(t, 5*time.Second, "the code to ana", func() bool { return srv.App.TestMailer.TotalSend() == 1 })
	if to := srv.App.TestMailer.LastMessage().To[0].Address; to != "ana@example.com" {
		t.Fatalf("expected the code sent to ana@example.com, got %s", to)
	}
	bob := apptest.CreateUser(t, srv.App, "BOB@Example.COM")
	if bob.Email() != "bob@example.com" {
		t.Fatalf("expected the email stored lower case, got %q", bob.Email())
	}
	col, _ := srv.App.FindCollectionByNameOrId(users.Collection)
	dup := core.NewRecord(col)
	dup.SetEmail("Bob@example.com")
	dup.SetPassword(apptest.Password)
	if err := srv.App.Save(dup); err == nil {
		t.Fatal("expected a second account for Bob@example.com to be refused")
	}
}

func TestSuperusersSignInWithASecondFactor(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	apptest.CreateSuperuser(t, srv.App, "root@example.com")
	res := passwordAttempt(t, srv, "", "_superusers", "root@example.com", apptest.Password)
	mfaID, _ := res.JSON(t)["mfaId"].(string)
	if res.Status != http.StatusUnauthorized || mfaID == "" || strings.Contains(string(res.Body), `"token"`) {
		t.Fatalf("expected 401 with an mfaId and no token, got %d: %s", res.Status, res.Body)
	}
	otp := srv.Do(t, "POST", "/api/collections/_superusers/request-otp", map[string]string{"email": "root@example.com"}, nil)
	otpID, _ := otp.JSON(t)["otpId"].(string)
	apptest.Eventually(t, 5*time.Second, "the superuser's code", func() bool { return srv.App.TestMailer.TotalSend() == 1 })
	code := lastCode(t, srv)
	done := srv.Do(t, "POST", "/api/collections/_superusers/auth-with-otp?mfaId="+mfaID, map[string]string{"otpId": otpID, "password": code}, nil)
	if done.Status != http.StatusOK || !strings.Contains(string(done.Body), `"token":"`) {
		t.Fatalf("expected the code to complete the sign-in, got %d: %s", done.Status, done.Body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AppURL = "https://phaseflow.example.com"
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	auth := apptest.Auth(apptest.Token(t, srv.App, ana))
	for _, path := range []string{"/api/collections/users/records/" + ana.Id, "/api/collections/auth_events/records", "/api/user", "/login"} {
		res := srv.Do(t, "GET", path, nil, auth)
		if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
			t.Fatalf("%s: expected HSTS, got %q", path, got)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Fatalf("%s: expected Cache-Control no-store, got %q", path, got)
		}
	}
	res := passwordAttempt(t, srv, "", "users", "ana@example.com", apptest.Password)
	if res.Status != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("expected an auth response with no-store, got %d %q", res.Status, res.Header.Get("Cache-Control"))
	}

	t.Run("CORS on PhaseFlow's routes is APP_URL's origin only", func(t *testing.T) {
		foreign := srv.Do(t, "GET", "/api/user", nil, map[string]string{"Authorization": auth["Authorization"], "Origin": "https://evil.example"})
		if got := foreign.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("expected no CORS grant for a foreign origin, got %q", got)
		}
		pre := srv.Do(t, "OPTIONS", "/api/user", nil, map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"})
		if pre.Status != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("expected an empty preflight answer, got %d %q", pre.Status, pre.Header.Get("Access-Control-Allow-Origin"))
		}
		own := srv.Do(t, "GET", "/api/user", nil, map[string]string{"Authorization": auth["Authorization"], "Origin": "https://phaseflow.example.com"})
		if got := own.Header.Get("Access-Control-Allow-Origin"); got != "https://phaseflow.example.com" {
			t.Fatalf("expected APP_URL's origin allowed, got %q", got)
		}
	})
	t.Run("plain http sends no HSTS", func(t *testing.T) {
		plain := apptest.Start(t, apptest.Config(t))
		if got := plain.Do(t, "GET", "/login", nil, nil).Header.Get("Strict-Transport-Security"); got != "" {
			t.Fatalf("expected no HSTS over http, got %q", got)
		}
	})
}

var eightDigits = regexp.MustCompile(`\b\d{8}\b`)

// lastCode returns the code of the latest mail that carries one.
func lastCode(t *testing.T, srv *apptest.Server) string {
	t.Helper()
	msgs := srv.App.TestMailer.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if code := eightDigits.FindString(msgs[i].Text + msgs[i].HTML); code != "" {
			return code
		}
	}
	t.Fatal("no mail carries a code")
	return ""
}

func TestOAuth2CallbackSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	srv.App.Settings().Logs.MaxDays = 7
	const code, state = "SECRETCODE4f9a2", "SECRETSTATE77c1"
	srv.Do(t, "GET", "/auth/callback?code="+code+"&state="+state, nil, nil)
	srv.Do(t, "GET", "/reset-password?token="+code, nil, nil)
	var logs []struct{ Data string }
	apptest.Eventually(t, 10*time.Second, "the request logs", func() bool {
		logs = nil
		err := srv.App.AuxDB().Select("data").From("_logs").All(&logs)
		return err == nil && len(logs) >= 2
	})
	for _, l := range logs {
		if strings.Contains(l.Data, "SECRET") {
			t.Fatalf("a secret of the URL is in the log: %s", l.Data)
		}
	}
}

// TestEmailChangeConfirmationIsNoPasswordOracle: confirm-email-change checks the account's
// password, so whoever can start an email change (a stolen session) could guess it there; its
// wrong passwords draw from the sign-in budget and lock the account like any failed sign-in.
func TestEmailChangeConfirmationIsNoPasswordOracle(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AccountLockFailures = 3
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	token, err := ana.NewEmailChangeToken("thief@example.com")
	if err != nil {
		t.Fatal(err)
	}
	confirm := func(ip, password string) apptest.Response {
		return srv.DoFrom(t, ip, "POST", "/api/collections/users/confirm-email-change",
			map[string]string{"token": token, "password": password}, nil)
	}
	for i := range cfg.AccountLockFailures {
		if res := confirm(fmt.Sprintf("127.0.4.%d", i+1), "a guess that is wrong"); res.Status != http.StatusBadRequest {
			t.Fatalf("guess %d: expected 400, got %d: %s", i+1, res.Status, res.Body)
		}
	}
	if res := confirm("127.0.4.50", apptest.Password); res.Status != http.StatusTooManyRequests {
		t.Fatalf("expected the right password refused while locked, got %d: %s", res.Status, res.Body)
	}
	if res := passwordAttempt(t, srv, "127.0.4.51", "users", "ana@example.com", apptest.Password); res.Status != http.StatusTooManyRequests {
		t.Fatalf("expected the password sign-in locked too, got %d", res.Status)
	}
	if after, _ := srv.App.FindRecordById(users.Collection, ana.Id); after.Email() != "ana@example.com" {
		t.Fatal("the email changed")
	}
	// One client's budget covers these attempts too.
	for i := 0; i < cfg.AuthRateLimit; i++ {
		confirm("127.0.4.60", "another wrong guess")
	}
	if res := confirm("127.0.4.60", "another wrong guess"); res.Status != http.StatusTooManyRequests || !strings.Contains(string(res.Body), "from your address") {
		t.Fatalf("expected the client's budget spent, got %d: %s", res.Status, res.Body)
	}
}

// TestNoSpellingOfACredentialDodgesTheLock: PocketBase binds an auth body with case-insensitive
// JSON names that ignore '-' and '_' and takes the first of repeated form fields, so every spelling it signs in with is counted against the account and refused
// while it is locked; a body PhaseFlow cannot read as PocketBase does (XML) is refused unread.
func TestNoSpellingOfACredentialDodgesTheLock(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t) // 10 failures lock
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	const path = "/api/collections/users/auth-with-password"
	jsonType := map[string]string{"Content-Type": "application/json"}
	formType := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	attempt := func(ip, password string, i int) apptest.Response {
		switch i % 5 {
		case 0:
			return srv.DoFrom(t, ip, "POST", path, `{"Identity":"ana@example.com","password":"`+password+`"}`, jsonType)
		case 1:
			return srv.DoFrom(t, ip, "POST", path, `{"IDENTITY":"ana@example.com","PASSWORD":"`+password+`"}`, jsonType)
		case 2:
			return srv.DoFrom(t, ip, "POST", path, `{"iden_tity":"ana@example.com","pass-word":"`+password+`"}`, jsonType)
		case 3:
			form := url.Values{"identity": {"ana@example.com", "nobody@example.com"}, "password": {password}}
			return srv.DoFrom(t, ip, "POST", path, form.Encode(), formType)
		default:
			body, headers := apptest.Multipart(t, "identity", "ana@example.com", "identity", "nobody@example.com", "password", password)
			return srv.DoFrom(t, ip, "POST", path, body, headers)
		}
	}
	for i := range cfg.AccountLockFailures {
		if res := attempt(fmt.Sprintf("127.0.7.%d", i+1), "a wrong guess", i); res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "Failed to authenticate") {
			t.Fatalf("spelling %d: expected PocketBase's wrong-password answer, got %d: %s", i%5, res.Status, res.Body)
		}
	}
	for i := range 5 {
		res := attempt(fmt.Sprintf("127.0.7.%d", 50+i), apptest.Password, i)
		if res.Status != http.StatusTooManyRequests || !strings.Contains(string(res.Body), "locked") {
			t.Fatalf("spelling %d: expected the right password refused while locked, got %d: %s", i, res.Status, res.Body)
		}
	}
	if n := len(apptest.AuthEvents(t, srv.App, "method = 'account_lock' && user = {:u}", map[string]any{"u": ana.Id})); n != 1 {
		t.Fatalf("expected the lock audited once, got %d", n)
	}

	t.Run("an email-change confirmation in another spelling is refused while locked", func(t *testing.T) {
		token, err := ana.NewEmailChangeToken("thief@example.com")
		if err != nil {
			t.Fatal(err)
		}
		res := srv.DoFrom(t, "127.0.7.60", "POST", "/api/collections/users/confirm-email-change",
			`{"Token":"`+token+`","Password":"`+apptest.Password+`"}`, jsonType)
		if res.Status != http.StatusTooManyRequests {
			t.Fatalf("expected 429, got %d: %s", res.Status, res.Body)
		}
		if after, _ := srv.App.FindRecordById(users.Collection, ana.Id); after.Email() != "ana@example.com" {
			t.Fatal("the email changed")
		}
	})
	t.Run("an email code in another spelling is refused while locked", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/request-otp", `{"EMAIL":"ana@example.com"}`, jsonType)
		otpID, _ := res.JSON(t)["otpId"].(string)
		apptest.Eventually(t, 5*time.Second, "the code", func() bool {
			for _, m := range srv.App.TestMailer.Messages() {
				if eightDigits.MatchString(m.Text + m.HTML) {
					return true
				}
			}
			return false
		})
		code := lastCode(t, srv)
		res = srv.DoFrom(t, "127.0.7.61", "POST", "/api/collections/users/auth-with-otp", `{"OtpId":"`+otpID+`","Password":"`+code+`"}`, jsonType)
		if res.Status != http.StatusTooManyRequests {
			t.Fatalf("expected 429, got %d: %s", res.Status, res.Body)
		}
		if evs := apptest.AuthEvents(t, srv.App, "method = 'otp_request' && user = {:u}", map[string]any{"u": ana.Id}); len(evs) != 1 || evs[0].GetString(audit.FieldIdentity) != "ana@example.com" {
			t.Fatalf("expected the code request audited with the email tried, got %d rows", len(evs))
		}
	})
	t.Run("one name sent twice in two spellings is refused with a sentence", func(t *testing.T) {
		res := srv.DoFrom(t, "127.0.7.90", "POST", path, `{"identity":"nobody@example.com","Identity":"ana@example.com","password":"x"}`, jsonType)
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "could not be read") {
			t.Fatalf("expected 400 with a sentence, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("XML is refused unread and audited", func(t *testing.T) {
		apptest.CreateUser(t, srv.App, "cy@example.com")
		for i := range cfg.AccountLockFailures + 1 {
			res := srv.DoFrom(t, fmt.Sprintf("127.0.7.%d", 100+i), "POST", path,
				`<form><Identity>cy@example.com</Identity><Password>a wrong guess</Password></form>`, map[string]string{"Content-Type": "text/xml"})
			if res.Status != http.StatusUnsupportedMediaType || !strings.Contains(string(res.Body), "JSON") {
				t.Fatalf("expected 415 with a sentence, got %d: %s", res.Status, res.Body)
			}
		}
		if evs := apptest.AuthEvents(t, srv.App, "ip = '127.0.7.100' && outcome = 'failure'"); len(evs) != 1 {
			t.Fatalf("expected the refusal audited, got %d rows", len(evs))
		}
		if res := passwordAttempt(t, srv, "127.0.7.120", "users", "cy@example.com", apptest.Password); res.Status != http.StatusOK {
			t.Fatalf("expected nothing counted against the account, got %d: %s", res.Status, res.Body)
		}
	})
}

// TestOneIPv6NetworkSharesOneBudget: behind a proxy that passes on IPv6 clients, the addresses
// of one /64 (one subscriber's network) share a budget, so walking through them buys nothing;
// another network has its own, and an IPv4 client is still counted by its address.
func TestOneIPv6NetworkSharesOneBudget(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t) // AUTH_RATE_LIMIT 5 per minute
	cfg.TrustedProxyHeaders = []string{"X-Real-IP"}
	srv := apptest.Start(t, cfg)
	from := func(client string) apptest.Response {
		return srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "nobody@example.com", "password": "a wrong guess"}, map[string]string{"X-Real-IP": client})
	}
	for i := range cfg.AuthRateLimit {
		if res := from(fmt.Sprintf("2001:db8:1:2::%x", i+1)); res.Status != http.StatusBadRequest {
			t.Fatalf("attempt %d: expected 400, got %d: %s", i+1, res.Status, res.Body)
		}
	}
	if res := from("2001:db8:1:2:ffff:ffff:ffff:fffe"); res.Status != http.StatusTooManyRequests {
		t.Fatalf("expected a new address in the same /64 refused, got %d: %s", res.Status, res.Body)
	}
	if res := from("2001:db8:1:3::1"); res.Status != http.StatusBadRequest {
		t.Fatalf("expected another /64 to have its own budget, got %d: %s", res.Status, res.Body)
	}
	if res := from("192.0.2.7"); res.Status != http.StatusBadRequest {
		t.Fatalf("expected an IPv4 client to have its own budget, got %d: %s", res.Status, res.Body)
	}
	// PocketBase writes IPv6 addresses in full.
	if evs := apptest.AuthEvents(t, srv.App, "ip = '2001:0db8:0001:0002:ffff:ffff:ffff:fffe' && outcome = 'rate_limited'"); len(evs) != 1 {
		t.Fatalf("expected the refusal audited with the full address, got %d rows", len(evs))
	}
}
