package routes_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/internal/apptest"
	"phaseflow/sessions"
	"phaseflow/signup"
	"phaseflow/users"
)

func openRegistration(t *testing.T) *apptest.Server {
	cfg := manySignIns(t)
	cfg.OpenRegistration = true
	return apptest.Start(t, cfg)
}

// startSignup asks for a sign-up code for email and returns the signup id.
func startSignup(t *testing.T, srv *apptest.Server, email string) string {
	t.Helper()
	res := srv.Do(t, "POST", "/api/signup", map[string]string{"email": email}, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("signup: expected 200, got %d: %s", res.Status, res.Body)
	}
	id, _ := res.JSON(t)["signupId"].(string)
	if len(res.JSON(t)) != 1 || id == "" {
		t.Fatalf("expected exactly {signupId}, got %s", res.Body)
	}
	return id
}

func TestSignupProvesTheEmailFirst(t *testing.T) {
	t.Parallel()
	srv := openRegistration(t)
	id := startSignup(t, srv, "New.Person@Example.com")
	if n, _ := srv.App.CountRecords(users.Collection); n != 0 {
		t.Fatalf("expected no account before the code comes back, got %d", n)
	}
	apptest.Eventually(t, 5*time.Second, "the code", func() bool { return srv.App.TestMailer.TotalSend() == 1 })
	m := srv.App.TestMailer.LastMessage()
	if m.To[0].Address != "new.person@example.com" || strings.ContainsAny(m.Subject, "0123456789") {
		t.Fatalf("expected the code mailed to the lower-cased address with no code in the subject, got %q to %v", m.Subject, m.To)
	}
	code := lastCode(t, srv)

	t.Run("a wrong code is refused and changes nothing", func(t *testing.T) {
		wrong := "00000000"
		if code == wrong {
			wrong = "11111111"
		}
		res := srv.Do(t, "POST", "/api/signup/verify", map[string]string{"signupId": id, "code": wrong}, nil)
		if res.Status != http.StatusBadRequest || strings.Contains(string(res.Body), "token") {
			t.Fatalf("expected 400, got %d: %s", res.Status, res.Body)
		}
		if n, _ := srv.App.CountRecords(users.Collection); n != 0 {
			t.Fatalf("expected no account, got %d", n)
		}
	})
	res := srv.Do(t, "POST", "/api/signup/verify", map[string]string{"signupId": id, "code": code}, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	token, _ := res.JSON(t)["token"].(string)
	u, err := srv.App.FindAuthRecordByEmail(users.Collection, "new.person@example.com")
	if err != nil || !u.Verified() || !u.GetBool(users.FieldApproved) || u.GetInt(users.FieldCycleLength) != 28 {
		t.Fatalf("expected a verified, approved account with defaults, got %v", err)
	}
	requireLive(t, srv, token)
	if evs := apptest.AuthEvents(t, srv.App, "method = 'signup' && outcome = 'success' && user = {:u}", map[string]any{"u": u.Id}); len(evs) != 1 {
		t.Fatalf("expected the sign-up audited, got %d", len(evs))
	}
	t.Run("the code works once", func(t *testing.T) {
		if res := srv.Do(t, "POST", "/api/signup/verify", map[string]string{"signupId": id, "code": code}, nil); res.Status != http.StatusBadRequest {
			t.Fatalf("expected 400 for a used code, got %d", res.Status)
		}
	})
	t.Run("a password is optional and set right after", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/user/password", map[string]string{"password": "password123456789"}, apptest.Auth(token))
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "validation_password_common") {
			t.Fatalf("expected the blocklist to refuse password123456789, got %d: %s", res.Status, res.Body)
		}
		res = srv.Do(t, "POST", "/api/user/password", map[string]string{"password": "lantern otter violet"}, apptest.Auth(token))
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
	})
}

func TestSignupAnswersTheSameForATakenAddress(t *testing.T) {
	t.Parallel()
	srv := openRegistration(t)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	before := apptest.UsersSnapshot(t, srv.App)
	free := srv.Do(t, "POST", "/api/signup", map[string]string{"email": "free@example.com"}, nil)
	taken := srv.Do(t, "POST", "/api/signup", map[string]string{"email": "ANA@example.com"}, nil)
	if free.Status != taken.Status || len(free.Body) != len(taken.Body) {
		t.Fatalf("expected the same answer, got %d %s and %d %s", free.Status, free.Body, taken.Status, taken.Body)
	}
	apptest.Eventually(t, 5*time.Second, "both mails", func() bool { return srv.App.TestMailer.TotalSend() == 2 })
	for _, m := range srv.App.TestMailer.Messages() {
		if m.To[0].Address == "ana@example.com" && eightDigits.MatchString(m.Text) {
			t.Fatal("the owner of a taken address got a code that could complete a sign-up")
		}
	}
	id, _ := taken.JSON(t)["signupId"].(string)
	for _, code := range []string{"00000000", "12345678"} {
		if res := srv.Do(t, "POST", "/api/signup/verify", map[string]string{"signupId": id, "code": code}, nil); res.Status != http.StatusBadRequest {
			t.Fatalf("expected the decoy sign-up refused, got %d", res.Status)
		}
	}
	if apptest.UsersSnapshot(t, srv.App) != before {
		t.Fatal("a sign-up with a taken address changed an account")
	}
	_ = ana
}

func TestSignupRefusals(t *testing.T) {
	t.Parallel()
	t.Run("closed registration", func(t *testing.T) {
		t.Parallel()
		srv := apptest.Start(t, apptest.Config(t))
		for _, path := range []string{"/api/signup", "/api/signup/verify"} {
			if res := srv.Do(t, "POST", path, map[string]string{"email": "a@example.com"}, nil); res.Status != http.StatusForbidden {
				t.Fatalf("%s: expected 403, got %d", path, res.Status)
			}
		}
	})
	t.Run("the record API sign-up is closed even with open registration", func(t *testing.T) {
		t.Parallel()
		srv := openRegistration(t)
		res := srv.Do(t, "POST", "/api/collections/users/records", map[string]any{
			"email": "squatter@example.com", "password": "lantern otter violet", "passwordConfirm": "lantern otter violet"}, nil)
		if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), "/api/signup") {
			t.Fatalf("expected 403 pointing to /api/signup, got %d: %s", res.Status, res.Body)
		}
		if n, _ := srv.App.CountRecords(users.Collection); n != 0 {
			t.Fatalf("expected no account, got %d", n)
		}
	})
	t.Run("five wrong codes end the sign-up", func(t *testing.T) {
		t.Parallel()
		srv := openRegistration(t)
		id := startSignup(t, srv, "five@example.com")
		apptest.Eventually(t, 5*time.Second, "the code", func() bool { return srv.App.TestMailer.TotalSend() == 1 })
		code := lastCode(t, srv)
		for i := range signup.MaxAttempts {
			wrong := "9999999" + string(rune('0'+i))
			if wrong == code {
				wrong = "88888888"
			}
			srv.Do(t, "POST", "/api/signup/verify", map[string]string{"signupId": id, "code": wrong}, nil)
		}
		if res := srv.Do(t, "POST", "/api/signup/verify", map[string]string{"signupId": id, "code": code}, nil); res.Status != http.StatusBadRequest {
			t.Fatalf("expected the right code refused after five wrong ones, got %d", res.Status)
		}
	})
	t.Run("malformed bodies", func(t *testing.T) {
		t.Parallel()
		srv := openRegistration(t)
		for _, body := range []string{`{}`, `{"email":"not-an-address"}`, `{"email":"a@example.com","x":1}`, `nope`} {
			if res := srv.Do(t, "POST", "/api/signup", body, nil); res.Status != http.StatusBadRequest {
				t.Fatalf("%s: expected 400, got %d", body, res.Status)
			}
		}
	})
	t.Run("with approval, the new account waits and says so", func(t *testing.T) {
		t.Parallel()
		cfg := manySignIns(t)
		cfg.OpenRegistration, cfg.RegistrationApproval = true, true
		srv := apptest.Start(t, cfg)
		id := startSignup(t, srv, "waiting@example.com")
		apptest.Eventually(t, 5*time.Second, "the code", func() bool { return srv.App.TestMailer.TotalSend() == 1 })
		res := srv.Do(t, "POST", "/api/signup/verify", map[string]string{"signupId": id, "code": lastCode(t, srv)}, nil)
		if res.Status != http.StatusForbidden || res.JSON(t)["message"] != users.MsgCreatedAwaitingApproval || strings.Contains(string(res.Body), "token") {
			t.Fatalf("expected 403 %q, got %d: %s", users.MsgCreatedAwaitingApproval, res.Status, res.Body)
		}
		u, err := srv.App.FindAuthRecordByEmail(users.Collection, "waiting@example.com")
		if err != nil || u.GetBool(users.FieldApproved) || !u.Verified() {
			t.Fatalf("expected a verified account waiting for approval, got %v", err)
		}
		if n, _ := srv.App.CountRecords(sessions.Collection); n != 0 {
			t.Fatalf("expected no session for an account waiting for approval, got %d", n)
		}
		// Later sign-ins of the account say it is waiting, not that it was just created.
		otp := srv.Do(t, "POST", "/api/collections/users/request-otp", map[string]string{"email": "waiting@example.com"}, nil)
		otpID, _ := otp.JSON(t)["otpId"].(string)
		apptest.Eventually(t, 5*time.Second, "the sign-in code", func() bool { return srv.App.TestMailer.TotalSend() == 2 })
		again := srv.Do(t, "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otpID, "password": lastCode(t, srv)}, nil)
		if again.Status != http.StatusForbidden || again.JSON(t)["message"] != users.MsgAwaitingApproval {
			t.Fatalf("expected 403 %q, got %d: %s", users.MsgAwaitingApproval, again.Status, again.Body)
		}
	})
}

func TestPreRegistrationTakeoverIsImpossible(t *testing.T) {
	t.Parallel()
	srv := openRegistration(t)
	// An unverified account that still exists (an operator made it, or an old sign-up) has a
	// password someone else may know.
	const squatterPassword = "squatter knows this one"
	victim := apptest.CreateUser(t, srv.App, "victim@example.com", func(r *core.Record) {
		r.SetVerified(false)
		r.SetPassword(squatterPassword)
	})
	squatter := passwordAttempt(t, srv, "", "users", "victim@example.com", squatterPassword)
	squatterToken, _ := squatter.JSON(t)["token"].(string)
	// The owner signs in with an email code, which verifies the account.
	res := srv.Do(t, "POST", "/api/collections/users/request-otp", map[string]string{"email": "victim@example.com"}, nil)
	otpID, _ := res.JSON(t)["otpId"].(string)
	apptest.Eventually(t, 5*time.Second, "the code", func() bool { return srv.App.TestMailer.TotalSend() >= 1 })
	// The mail is counted sent a moment before PocketBase records where it went; until then the
	// code is refused unspent (TestCodeNotYetRecordedIsRefusedUnspent).
	var owner apptest.Response
	apptest.Eventually(t, 5*time.Second, "the owner's email-code sign-in", func() bool {
		owner = srv.Do(t, "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otpID, "password": lastCode(t, srv)}, nil)
		return owner.Status != http.StatusBadRequest || !strings.Contains(string(owner.Body), "on its way")
	})
	if owner.Status != http.StatusOK {
		t.Fatalf("owner's email-code sign-in: expected 200, got %d: %s", owner.Status, owner.Body)
	}
	requireEnded(t, srv, victim, squatterToken)
	if res := passwordAttempt(t, srv, "", "users", "victim@example.com", squatterPassword); res.Status != http.StatusBadRequest {
		t.Fatalf("expected the squatter's password to stop working, got %d", res.Status)
	}
}

// TestCodeNotYetRecordedIsRefusedUnspent: PocketBase records where a code went only once its mail
// has left. An unverified account's code used before that would sign the person in without the
// verified upgrade (the squatter's password and sessions would stay), so it is refused, unspent,
// and works once the address is recorded.
func TestCodeNotYetRecordedIsRefusedUnspent(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, manySignIns(t))
	victim := apptest.CreateUser(t, srv.App, "early@example.com", func(r *core.Record) { r.SetVerified(false) })
	squatterToken := apptest.Token(t, srv.App, victim)
	otp := core.NewOTP(srv.App)
	otp.SetCollectionRef(victim.Collection().Id)
	otp.SetRecordRef(victim.Id)
	otp.SetPassword("12345678")
	if err := srv.App.Save(otp); err != nil {
		t.Fatal(err)
	}
	before := apptest.UsersSnapshot(t, srv.App)
	res := srv.Do(t, "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otp.Id, "password": "12345678"}, nil)
	if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "on its way") || strings.Contains(string(res.Body), "token") {
		t.Fatalf("expected 400 \"on its way\", got %d: %s", res.Status, res.Body)
	}
	if apptest.UsersSnapshot(t, srv.App) != before {
		t.Fatal("the refused code changed the account")
	}
	otp.SetSentTo("early@example.com")
	if err := srv.App.Save(otp); err != nil {
		t.Fatal(err)
	}
	res = srv.Do(t, "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otp.Id, "password": "12345678"}, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("expected the unspent code to work once recorded, got %d: %s", res.Status, res.Body)
	}
	after, _ := srv.App.FindRecordById(users.Collection, victim.Id)
	if !after.Verified() || after.ValidatePassword(apptest.Password) {
		t.Fatal("expected the account verified and its old password gone")
	}
	requireEnded(t, srv, victim, squatterToken)
}

// TestSignupMailsOneAddressBoundedFromAnyAddresses: a stranger asking again and again, from as
// many client addresses as they like, gets PhaseFlow to mail one address at most MaxLive times
// while the codes live; the answer stays the same, free or taken, and the newest code still works.
func TestSignupMailsOneAddressBoundedFromAnyAddresses(t *testing.T) {
	t.Parallel()
	srv := openRegistration(t)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	for k, email := range []string{"free@example.com", "ana@example.com"} {
		var ids []string
		for i := range signup.MaxLive + 3 {
			res := srv.DoFrom(t, fmt.Sprintf("127.0.8.%d", 1+i+20*k), "POST", "/api/signup", map[string]string{"email": email}, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("%s request %d: expected 200, got %d: %s", email, i+1, res.Status, res.Body)
			}
			id, _ := res.JSON(t)["signupId"].(string)
			ids = append(ids, id)
		}
		if ids[signup.MaxLive] != ids[signup.MaxLive-1] || ids[signup.MaxLive+2] != ids[signup.MaxLive-1] {
			t.Fatalf("%s: expected the requests past %d answered with the newest sign-up, got %v", email, signup.MaxLive, ids)
		}
	}
	apptest.Eventually(t, 5*time.Second, "the mails", func() bool { return srv.App.TestMailer.TotalSend() >= 2*signup.MaxLive })
	time.Sleep(200 * time.Millisecond) // a mail too many would have left by now
	perAddress := map[string]int{}
	for _, m := range srv.App.TestMailer.Messages() {
		perAddress[m.To[0].Address]++
	}
	if perAddress["free@example.com"] != signup.MaxLive || perAddress["ana@example.com"] != signup.MaxLive {
		t.Fatalf("expected %d mails to each address, got %v", signup.MaxLive, perAddress)
	}
	// The newest sign-up's code is one of those mailed (mails may leave in any order); fewer
	// wrong codes than end a sign-up find it.
	var newest string
	if res := srv.Do(t, "POST", "/api/signup", map[string]string{"email": "free@example.com"}, nil); res.Status == http.StatusOK {
		newest, _ = res.JSON(t)["signupId"].(string)
	}
	for _, m := range srv.App.TestMailer.Messages() {
		if m.To[0].Address != "free@example.com" {
			continue
		}
		res := srv.Do(t, "POST", "/api/signup/verify", map[string]string{"signupId": newest, "code": eightDigits.FindString(m.Text)}, nil)
		if res.Status == http.StatusOK {
			return
		}
	}
	t.Fatal("expected one of the mailed codes to complete the newest sign-up")
}
