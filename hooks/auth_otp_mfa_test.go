package hooks_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/audit"
	"phaseflow/internal/apptest"
	"phaseflow/users"
)

var otpCode = regexp.MustCompile(`\b\d{8}\b`)

// waitForCode waits for the n-th mail (OTP mails are sent in the background) and returns the
// 8-digit code in it.
func waitForCode(t *testing.T, app *tests.TestApp, n int) string {
	t.Helper()
	apptest.Eventually(t, 5*time.Second, fmt.Sprintf("mail %d", n), func() bool { return app.TestMailer.TotalSend() >= n })
	msg := app.TestMailer.Messages()[n-1]
	code := otpCode.FindString(msg.HTML + msg.Text)
	if code == "" {
		t.Fatalf("no code in mail %q", msg.Subject)
	}
	return code
}

func requestOTP(t *testing.T, srv *apptest.Server, email string) string {
	t.Helper()
	res := srv.Do(t, "POST", "/api/collections/users/request-otp", map[string]string{"email": email}, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("request-otp: expected 200, got %d: %s", res.Status, res.Body)
	}
	id, _ := res.JSON(t)["otpId"].(string)
	if id == "" {
		t.Fatalf("expected an otpId, got %s", res.Body)
	}
	return id
}

func TestOTPSignIn(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	user := apptest.CreateUser(t, srv.App, "ana@example.com")

	t.Run("the mailed code signs in", func(t *testing.T) {
		otpID := requestOTP(t, srv, "ana@example.com")
		code := waitForCode(t, srv.App, 1)
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otpID, "password": code}, nil)
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"token":"`) {
			t.Fatalf("expected 200 with a token, got %d: %s", res.Status, res.Body)
		}
	})

	t.Run("a wrong code is refused", func(t *testing.T) {
		otpID := requestOTP(t, srv, "ana@example.com")
		code := waitForCode(t, srv.App, 2)
		wrong := "00000000"
		if code == wrong {
			wrong = "11111111"
		}
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otpID, "password": wrong}, nil)
		if res.Status != http.StatusBadRequest || strings.Contains(string(res.Body), "token") {
			t.Fatalf("expected 400 without a token, got %d: %s", res.Status, res.Body)
		}
	})

	t.Run("an expired code is refused", func(t *testing.T) {
		otpID := requestOTP(t, srv, "ana@example.com")
		code := waitForCode(t, srv.App, 3)
		// PocketBase saves the code's row again once the mail is out (its sentTo), which would
		// write back the creation time changed below.
		apptest.Eventually(t, 5*time.Second, "the code's sentTo", func() bool {
			otp, err := srv.App.FindOTPById(otpID)
			return err == nil && otp.SentTo() != ""
		})
		col, _ := srv.App.FindCollectionByNameOrId(users.Collection)
		past := time.Now().UTC().Add(-time.Duration(col.OTP.Duration+60) * time.Second).Format(types.DefaultDateLayout)
		if _, err := srv.App.DB().NewQuery("UPDATE {{_otps}} SET [[created]] = {:t} WHERE id = {:id}").
			Bind(map[string]any{"t": past, "id": otpID}).Execute(); err != nil {
			t.Fatal(err)
		}
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otpID, "password": code}, nil)
		if res.Status != http.StatusBadRequest || strings.Contains(string(res.Body), "token") {
			t.Fatalf("expected 400 without a token, got %d: %s", res.Status, res.Body)
		}
	})

	t.Run("an unknown email gets a decoy id, no mail, and an audit row", func(t *testing.T) {
		before := srv.App.TestMailer.TotalSend()
		requestOTP(t, srv, "nobody@example.com")
		apptest.Never(t, 300*time.Millisecond, "a mail for an unknown address", func() bool { return srv.App.TestMailer.TotalSend() != before })
		evs := apptest.AuthEvents(t, srv.App, "method = 'otp_request' && identity = 'nobody@example.com'")
		if len(evs) != 1 || evs[0].GetString("outcome") != audit.OutcomeFailure {
			t.Fatalf("expected one failed otp_request event, got %d", len(evs))
		}
	})

	t.Run("audit rows never hold the code", func(t *testing.T) {
		for _, ev := range apptest.AuthEvents(t, srv.App, "") {
			raw, _ := ev.MarshalJSON()
			if m := otpCode.FindString(string(raw)); m != "" {
				t.Fatalf("auth event holds an 8-digit number %q: %s", m, raw)
			}
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'otp' && outcome = 'success' && user = {:u}", map[string]any{"u": user.Id})
		if len(evs) != 1 {
			t.Fatalf("expected 1 successful otp event, got %d", len(evs))
		}
	})
}

func TestMFA(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	apptest.CreateUser(t, srv.App, "mfa@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })
	apptest.CreateUser(t, srv.App, "plain@example.com")

	t.Run("an account without mfa signs in with a password alone", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "plain@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
	})

	res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
		map[string]string{"identity": "mfa@example.com", "password": apptest.Password}, nil)
	body := res.JSON(t)
	mfaID, _ := body["mfaId"].(string)
	t.Run("password alone yields an mfaId and no token", func(t *testing.T) {
		if res.Status != http.StatusUnauthorized || mfaID == "" || body["token"] != nil {
			t.Fatalf("expected 401 with mfaId only, got %d: %s", res.Status, res.Body)
		}
		evs := apptest.AuthEvents(t, srv.App, "outcome = 'mfa_required'")
		if len(evs) != 1 {
			t.Fatalf("expected 1 mfa_required event, got %d", len(evs))
		}
	})

	t.Run("a forged body provider does not exempt a password sign-in", func(t *testing.T) {
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "mfa@example.com", "password": apptest.Password, "provider": "oidc"}, nil)
		if res.Status != http.StatusUnauthorized || strings.Contains(string(res.Body), "token") {
			t.Fatalf("expected 401 mfa, got %d: %s", res.Status, res.Body)
		}
	})

	t.Run("the email code with the mfaId completes the sign-in", func(t *testing.T) {
		before := srv.App.TestMailer.TotalSend()
		otpID := requestOTP(t, srv, "mfa@example.com")
		code := waitForCode(t, srv.App, before+1)
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-otp?mfaId="+mfaID,
			map[string]string{"otpId": otpID, "password": code}, nil)
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"token":"`) {
			t.Fatalf("expected 200 with a token, got %d: %s", res.Status, res.Body)
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'otp' && outcome = 'success' && secondFactor = true")
		if len(evs) != 1 {
			t.Fatalf("expected 1 second-factor event, got %d", len(evs))
		}
	})
}
