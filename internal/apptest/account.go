package apptest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/audit"
	"phaseflow/sessions"
	"phaseflow/signup"
	"phaseflow/throttle"
	"phaseflow/users"
)

// AccountRows counts, per collection, the rows that hold something of the account id with email:
// every place an erasure must empty (see phaseflow/account).
func AccountRows(t testing.TB, app core.App, id, email string) map[string]int64 {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(users.Collection)
	if err != nil {
		t.Fatal(err)
	}
	byRef := dbx.HashExp{"collectionRef": col.Id, "recordRef": id}
	where := map[string]dbx.Expression{
		users.Collection:    dbx.HashExp{"id": id},
		sessions.Collection: dbx.HashExp{sessions.FieldUser: id},
		audit.Collection: dbx.Or(dbx.HashExp{audit.FieldUser: id}, dbx.And(dbx.HashExp{audit.FieldUser: ""},
			dbx.NewExp("lower(["+audit.FieldIdentity+"]) = {:email}", dbx.Params{"email": strings.ToLower(email)}))),
		core.CollectionNameExternalAuths: byRef,
		core.CollectionNameMFAs:          byRef,
		core.CollectionNameOTPs:          byRef,
		core.CollectionNameAuthOrigins:   byRef,
		throttle.LocksCollection:         dbx.HashExp{throttle.FieldKey: throttle.AccountKey(col.Id, email)},
		signup.Collection:                dbx.HashExp{signup.FieldEmail: strings.ToLower(email)},
	}
	out := make(map[string]int64, len(where))
	for col, exp := range where {
		var n int64
		if err := app.DB().Select("count(*)").From(col).Where(exp).Row(&n); err != nil {
			t.Fatalf("failed to count %s: %v", col, err)
		}
		out[col] = n
	}
	return out
}

// FillAccount gives the account user (with Password) a row in every collection that can hold its
// data: a session from a password sign-in (with its auth_events rows) and one more, a failed
// sign-in (auth_locks), a calendar feed, a linked oidc identity (subject "subject-" + its id),
// MFA, OTP and auth-origin rows, a pending sign-up for its email and an audit row of the email
// without the account. A later successful password
// sign-in clears its auth_locks row again. It returns the feed URL's
// path and the signed-in token (a sign-in just now: proof of presence). It signs in over HTTP
// twice, so the server's AUTH_RATE_LIMIT must allow it.
func (s *Server) FillAccount(t testing.TB, user *core.Record) (feedPath, token string) {
	t.Helper()
	email := user.Email()
	token = s.SignIn(t, email, "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
	Session(t, s.App, user)
	// After the sign-in, whose success clears the account's failures.
	res := s.Do(t, http.MethodPost, "/api/collections/users/auth-with-password",
		map[string]string{"identity": email, "password": "not-the-password"}, nil)
	if res.Status != http.StatusBadRequest {
		t.Fatalf("failed sign-in of %s: expected 400, got %d: %s", email, res.Status, res.Body)
	}

	res = s.Do(t, http.MethodPost, "/api/user/calendar-token", nil, Auth(token))
	if res.Status != http.StatusOK {
		t.Fatalf("feed of %s: expected 200, got %d: %s", email, res.Status, res.Body)
	}
	feedURL, _ := res.JSON(t)["url"].(string)
	feedPath = feedURL[strings.Index(feedURL, "/api/calendar/"):]

	app := s.App
	link := core.NewExternalAuth(app)
	link.SetCollectionRef(user.Collection().Id)
	link.SetRecordRef(user.Id)
	link.SetProvider(users.OIDCProvider)
	link.SetProviderId("subject-" + user.Id)
	mfa := core.NewMFA(app)
	mfa.SetCollectionRef(user.Collection().Id)
	mfa.SetRecordRef(user.Id)
	mfa.SetMethod(core.MFAMethodPassword)
	otp := core.NewOTP(app)
	otp.SetCollectionRef(user.Collection().Id)
	otp.SetRecordRef(user.Id)
	otp.SetPassword("12345678")
	origin := core.NewAuthOrigin(app)
	origin.SetCollectionRef(user.Collection().Id)
	origin.SetRecordRef(user.Id)
	origin.SetFingerprint("fingerprint-" + user.Id)
	signups, err := app.FindCollectionByNameOrId(signup.Collection)
	if err != nil {
		t.Fatal(err)
	}
	pending := core.NewRecord(signups)
	pending.Set(signup.FieldEmail, email)
	pending.Set(signup.FieldCodeHash, strings.Repeat("0", 64))
	pending.Set(signup.FieldExpires, time.Now().Add(signup.CodeLifetime))
	for _, m := range []core.Model{link, mfa, otp, origin, pending} {
		if err := app.Save(m); err != nil {
			t.Fatalf("failed to save a %T of %s: %v", m, email, err)
		}
	}
	// An audit row that names the email but no account (a sign-up request, say).
	if err := audit.Write(app, audit.Event{Method: audit.MethodSignupRequest, Outcome: audit.OutcomeSuccess,
		Identity: strings.ToUpper(email), IP: "127.0.0.1"}); err != nil {
		t.Fatalf("failed to audit a sign-up request of %s: %v", email, err)
	}
	return feedPath, token
}
