package routes

import (
	"encoding/json"
	"net/http"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/throttle"
	"phaseflow/users"
)

// maxSmallBody bounds the JSON bodies of the small security endpoints.
const maxSmallBody = 1 << 10

// MFAState is the GET/POST /api/user/mfa response.
type MFAState struct {
	Enabled   bool `json:"enabled"`
	Available bool `json:"available"`
}

func bindUserSecurity(g *router.RouterGroup[*core.RequestEvent], cfg config.Config) {
	g.POST("/logout-all", userLogoutAll)
	g.GET("/mfa", userMFAView)
	g.POST("/mfa", func(e *core.RequestEvent) error { return userMFAUpdate(e, limitsOf(cfg)) }).
		Bind(apis.BodyLimit(maxSmallBody))
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
// authTime, kept across refreshes) or the current password, whose wrong guesses count towards
// the account's lock.
func userMFAUpdate(e *core.RequestEvent, limits throttle.Limits) error {
	var in mfaRequest
	dec := json.NewDecoder(e.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() || in.Enabled == nil {
		return e.BadRequestError(`Send {"enabled": true} or {"enabled": false, "password": "…"}.`, nil)
	}
	if *in.Enabled && !mfaAvailable(e) {
		return e.BadRequestError("A second factor is not available: email codes are switched off on this server.", nil)
	}
	if !*in.Enabled {
		if err := provePresence(e, limits, audit.MethodMFASetting, "password", in.Password); err != nil {
			return err
		}
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
