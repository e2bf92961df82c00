package routes

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/audit"
	"phaseflow/users"
)

// maxSmallBody bounds the JSON bodies of the small security endpoints.
const maxSmallBody = 1 << 10

// MFAState is the GET/POST /api/user/mfa response.
type MFAState struct {
	Enabled   bool `json:"enabled"`
	Available bool `json:"available"`
}

func bindUserSecurity(g *router.RouterGroup[*core.RequestEvent]) {
	g.POST("/logout-all", userLogoutAll)
	g.GET("/mfa", userMFAView)
	g.POST("/mfa", userMFAUpdate).Bind(apis.BodyLimit(maxSmallBody))
}

// userLogoutAll rotates the token key: every token of the user, including the caller's, stops
// working at once. The calendar feed has its own token and keeps working.
func userLogoutAll(e *core.RequestEvent) error {
	_, err := users.Update(e.App, e.Auth, func(fresh *core.Record) error {
		fresh.RefreshTokenKey()
		return nil
	})
	if err != nil {
		return writeError(e, "Failed to sign out everywhere.", err)
	}
	audit.Request(e, audit.MethodLogoutAll, audit.OutcomeSuccess, "Signed out of all devices.")
	return e.NoContent(http.StatusNoContent)
}

func mfaAvailable(e *core.RequestEvent) bool {
	return e.Auth.Collection().MFA.Enabled
}

func userMFAView(e *core.RequestEvent) error {
	return e.JSON(http.StatusOK, MFAState{Enabled: e.Auth.GetBool(users.FieldMFA), Available: mfaAvailable(e)})
}

// mfaRequest is the POST /api/user/mfa body.
type mfaRequest struct {
	Enabled  *bool  `json:"enabled"`
	Password string `json:"password"`
}

// userMFAUpdate turns the account's second factor on or off. Turning it on needs only a valid
// token; turning it off needs proof of presence: a sign-in within users.RecentSignIn (the token's
// authTime, kept across refreshes) or the current password.
func userMFAUpdate(e *core.RequestEvent) error {
	var in mfaRequest
	dec := json.NewDecoder(e.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() || in.Enabled == nil {
		return e.BadRequestError(`Send {"enabled": true} or {"enabled": false, "password": "…"}.`, nil)
	}
	if *in.Enabled && !mfaAvailable(e) {
		return e.BadRequestError("A second factor is not available: email codes are switched off on this server.", nil)
	}
	if !*in.Enabled && recentMFAFailures(e) >= maxMFAFailures {
		return e.TooManyRequestsError("Too many failed attempts to turn the second factor off; try again in 15 minutes.", nil)
	}
	if !*in.Enabled && !presenceProven(e, in.Password) {
		audit.Request(e, audit.MethodMFASetting, audit.OutcomeFailure, "Turning off the second factor without proof of presence.")
		return e.ForbiddenError("Confirm it is you: sign in again or enter your current password to turn the second factor off.", nil)
	}
	_, err := users.Update(e.App, e.Auth, func(fresh *core.Record) error {
		fresh.Set(users.FieldMFA, *in.Enabled)
		return nil
	})
	if err != nil {
		return writeError(e, "Failed to change the second factor.", err)
	}
	reason := "Second factor turned off."
	if *in.Enabled {
		reason = "Second factor turned on."
	}
	audit.Request(e, audit.MethodMFASetting, audit.OutcomeSuccess, reason)
	return e.JSON(http.StatusOK, MFAState{Enabled: *in.Enabled, Available: mfaAvailable(e)})
}

// maxMFAFailures bounds password guesses through the second-factor switch per 15 minutes.
const maxMFAFailures = 5

func recentMFAFailures(e *core.RequestEvent) int {
	since := time.Now().UTC().Add(-15 * time.Minute).Format(types.DefaultDateLayout)
	n, err := e.App.CountRecords(audit.Collection, dbx.HashExp{
		audit.FieldUser: e.Auth.Id, audit.FieldMethod: audit.MethodMFASetting, audit.FieldOutcome: audit.OutcomeFailure,
	}, dbx.NewExp("[["+audit.FieldCreated+"]] >= {:since}", dbx.Params{"since": since}))
	if err != nil {
		e.App.Logger().Error("Failed to count second-factor failures", "error", err.Error())
		return maxMFAFailures // fail closed
	}
	return int(n)
}

func presenceProven(e *core.RequestEvent, password string) bool {
	if password != "" {
		return e.Auth.ValidatePassword(password)
	}
	return users.SignedInRecently(e, time.Now())
}
