package routes

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/sessions"
	"phaseflow/throttle"
	"phaseflow/users"
)

// passwordRequest is the POST /api/user/password body.
type passwordRequest struct {
	CurrentPassword string `json:"currentPassword"`
	Password        string `json:"password"`
}

// PasswordChanged is the POST /api/user/password response: the token of this device's new
// session (every session of the account ended with the old password).
type PasswordChanged struct {
	Token  string        `json:"token"`
	Record users.Profile `json:"record"`
}

func bindUserPassword(g *router.RouterGroup[*core.RequestEvent], cfg config.Config) {
	lt := sessions.LifetimesFromDays(cfg.SessionDays, cfg.SessionMaxDays)
	g.POST("/password", func(e *core.RequestEvent) error { return userPasswordChange(e, lt, limitsOf(cfg)) }).
		Bind(apis.BodyLimit(maxSmallBody))
}

// limitsOf is the throttling of cfg.
func limitsOf(cfg config.Config) throttle.Limits {
	return throttle.Limits{PerClient: cfg.AuthRateLimit, LockFailures: cfg.AccountLockFailures, AppURL: cfg.AppURL}
}

// userPasswordChange sets a new password (or a first one, for an account that signed up with an
// email code or an identity provider). It needs proof of presence: the current password, or a
// sign-in within users.RecentSignIn; a current password that is sent must be right, and a wrong
// one counts towards the account's lock. It ends every session of the account and answers with
// a new one for this device.
func userPasswordChange(e *core.RequestEvent, lt sessions.Lifetimes, limits throttle.Limits) error {
	var in passwordRequest
	dec := json.NewDecoder(e.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() || in.Password == "" {
		return e.BadRequestError(`Send {"password": "…"} with your current password as "currentPassword", or right after signing in.`, nil)
	}
	if err := provePresence(e, limits, audit.MethodPasswordChange, "currentPassword", in.CurrentPassword); err != nil {
		return err
	}
	now := time.Now()
	current, _ := sessions.Current(e)
	// The password rule is checked where every password is set (users.ValidatePassword).
	record, err := users.Update(e.App, e.Auth, func(fresh *core.Record) error {
		fresh.SetPassword(in.Password)
		return nil
	})
	if err != nil {
		return writeError(e, "Choose another password.", err)
	}
	// The new password rotated the token key and ended every session; this device gets a new one.
	s, err := sessions.Create(e.App, lt, record, sessions.New{
		Method: current.Method, UserAgent: e.Request.UserAgent(), IP: e.RealIP(), IDToken: current.IDToken,
	}, now)
	if err != nil {
		return e.InternalServerError("", err)
	}
	// A proven current password is a fresh sign-in; otherwise the new token keeps the sign-in
	// time of the old one, so chaining changes does not stretch the recent-sign-in window.
	authTime := now.Unix()
	if at, ok := users.AuthTime(users.RequestToken(e)); ok && in.CurrentPassword == "" {
		authTime = at
	}
	token, err := users.NewSessionToken(record, users.SessionClaims{AuthTime: authTime, SessionID: s.ID, Refreshable: true, Expires: s.Ends()})
	if err != nil {
		return e.InternalServerError("", err)
	}
	if err := throttle.Clear(e.App, throttle.AccountKey(record.Collection().Id, record.Email())); err != nil {
		e.App.Logger().Warn("Failed to clear an account's failed sign-ins", "error", err.Error())
	}
	audit.Request(e, audit.MethodPasswordChange, audit.OutcomeSuccess, "Password changed; every other session ended.")
	return e.JSON(http.StatusOK, PasswordChanged{Token: token, Record: users.ProfileOf(record)})
}
