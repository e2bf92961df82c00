package routes

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/signup"
	"phaseflow/users"
)

// SignupStarted is the POST /api/signup response, the same for every address.
type SignupStarted struct {
	SignupID string `json:"signupId"`
}

type signupRequest struct {
	Email string `json:"email"`
}

type signupVerify struct {
	SignupID string `json:"signupId"`
	Code     string `json:"code"`
}

// msgSignupClosed answers sign-up requests while registration is closed.
const msgSignupClosed = "Sign-up is closed on this server. Ask its operator for an account."

func bindSignup(se *core.ServeEvent, cfg config.Config) {
	se.Router.POST("/api/signup", func(e *core.RequestEvent) error { return signupStart(e, cfg) }).
		Bind(apis.BodyLimit(maxSmallBody))
	se.Router.POST("/api/signup/verify", func(e *core.RequestEvent) error { return signupFinish(e, cfg) }).
		Bind(apis.BodyLimit(maxSmallBody))
}

// msgRecordSignUp answers a sign-up through PocketBase's record API, which would let anyone
// create an unverified account under someone else's address.
const msgRecordSignUp = "Create an account through the sign-up page: it proves the email address first (POST /api/signup)."

// refuseRecordSignUp answers a create request on the users collection through PocketBase's
// record API with a sentence, before PocketBase's create rule would answer "Failed to create
// record.": only a superuser creates accounts there. OAuth2 sign-ins create theirs internally,
// not through this route.
func refuseRecordSignUp(cfg config.Config) func(*core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		if e.Request.Method != http.MethodPost || e.HasSuperuserAuth() {
			return e.Next()
		}
		rest, ok := strings.CutPrefix(e.Request.URL.Path, "/api/collections/")
		name, tail, _ := strings.Cut(rest, "/")
		if !ok || strings.TrimSuffix(tail, "/") != "records" {
			return e.Next()
		}
		col, err := e.App.FindCachedCollectionByNameOrId(name)
		if err != nil || col.Name != users.Collection {
			return e.Next()
		}
		if !cfg.OpenRegistration {
			return e.ForbiddenError(msgSignupClosed, nil)
		}
		return e.ForbiddenError(msgRecordSignUp, nil)
	}
}

// decodeStrict reads one JSON object with no unknown fields into dst, and puts the body back for
// PocketBase to read again (e.RequestInfo, an auth response's rules): a route's body limit
// wraps the body in a reader that cannot be rewound.
func decodeStrict(e *core.RequestEvent, dst any) bool {
	raw, err := io.ReadAll(e.Request.Body)
	if err != nil {
		return false
	}
	e.Request.Body = io.NopCloser(bytes.NewReader(raw))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(dst) == nil && !dec.More()
}

// signupStart mails a sign-up code to a free address (a notice to a taken one) and answers the
// same either way. The client's code budget applies (throttle).
func signupStart(e *core.RequestEvent, cfg config.Config) error {
	if !cfg.OpenRegistration {
		return e.ForbiddenError(msgSignupClosed, nil)
	}
	var in signupRequest
	if !decodeStrict(e, &in) {
		return e.BadRequestError(`Send {"email": "you@example.com"}.`, nil)
	}
	if a, err := netmail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
		return e.BadRequestError("Enter an email address, e.g. you@example.com.", nil)
	}
	id, err := signup.Request(e.App, in.Email, cfg.AppURL, time.Now())
	if err != nil {
		return e.InternalServerError("", err)
	}
	ev := audit.NewEvent(e, audit.MethodSignupRequest, audit.OutcomeSuccess, "A sign-up code was requested.")
	ev.Identity = in.Email
	if err := audit.Write(e.App, ev); err != nil {
		e.App.Logger().Error("Failed to record a sign-up request", "error", err.Error())
	}
	return e.JSON(http.StatusOK, SignupStarted{SignupID: id})
}

// signupFinish creates the account when the code comes back and signs it in (a session like any
// sign-in); with approval on, the account waits for an administrator and the answer says so.
func signupFinish(e *core.RequestEvent, cfg config.Config) error {
	if !cfg.OpenRegistration {
		return e.ForbiddenError(msgSignupClosed, nil)
	}
	var in signupVerify
	if !decodeStrict(e, &in) || in.SignupID == "" || in.Code == "" {
		return e.BadRequestError(`Send {"signupId": "…", "code": "…"}.`, nil)
	}
	record, err := signup.Verify(e.App, in.SignupID, in.Code, time.Now())
	if errors.Is(err, signup.ErrInvalidCode) {
		audit.Request(e, audit.MethodSignup, audit.OutcomeFailure, "Wrong or expired sign-up code.")
		return e.BadRequestError("The code is wrong or has expired. Check the latest mail, or ask for a new code.", nil)
	}
	if err != nil {
		return e.InternalServerError("", err)
	}
	ev := audit.NewEvent(e, audit.MethodSignup, audit.OutcomeSuccess, "Account created after the email was proven.")
	ev.UserID, ev.Collection, ev.Identity = record.Id, users.Collection, record.Email()
	if err := audit.Write(e.App, ev); err != nil {
		e.App.Logger().Error("Failed to record a sign-up", "error", err.Error())
	}
	return apis.RecordAuthResponse(e, record, core.MFAMethodOTP, map[string]any{users.MetaIsNew: true})
}
