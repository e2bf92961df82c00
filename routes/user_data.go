package routes

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/account"
	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/mail"
	"phaseflow/sessions"
	"phaseflow/users"
)

// msgExportNeedsSignIn refuses an export without a recent sign-in. A GET carries no body, and a
// password in the URL would land in logs and the browser's history, so only a sign-in proves
// presence here.
const msgExportNeedsSignIn = "Downloading your data needs a recent sign-in: sign out, sign in again, and download it within 10 minutes."

// msgDeleteBody describes the DELETE /api/user body.
const msgDeleteBody = `Send {"confirmEmail": "<your account's email>"}, with "password" unless you signed in within the last 10 minutes.`

// msgLedgerDown answers a deletion the erasure ledger could not record: nothing was deleted.
const msgLedgerDown = "Your account cannot be deleted right now; nothing was changed. Try again later, or ask the operator."

func bindUserExport(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/export", userExport)
}

func bindUserDelete(g *router.RouterGroup[*core.RequestEvent], cfg config.Config) {
	g.DELETE("", func(e *core.RequestEvent) error { return userDelete(e, cfg) }).Bind(apis.BodyLimit(maxSmallBody))
}

// userExport downloads everything stored about the account as one JSON document
// (account.Export). It needs a sign-in within users.RecentSignIn: the file is the whole history of
// the account, and a stolen session should not be able to take it.
func userExport(e *core.RequestEvent) error {
	now := time.Now()
	if !users.SignedInRecently(e, now) {
		audit.Request(e, audit.MethodAccountExport, audit.OutcomeFailure, "No recent sign-in.")
		return e.ForbiddenError(msgExportNeedsSignIn, nil)
	}
	current, _ := sessions.Current(e)
	out, err := account.NewExport(e.App, e.Auth, current.ID, now)
	if err != nil {
		return e.InternalServerError("", err)
	}
	audit.Request(e, audit.MethodAccountExport, audit.OutcomeSuccess, "Account data downloaded.")
	e.Response.Header().Set("Content-Disposition", `attachment; filename="`+account.ExportFilename(now)+`"`)
	return e.JSON(http.StatusOK, out)
}

// deleteRequest is the DELETE /api/user body.
type deleteRequest struct {
	// ConfirmEmail must be the account's email: the page asks the person to type it, and the API
	// asks too, so that no client deletes an account by a slip.
	ConfirmEmail string `json:"confirmEmail"`
	Password     string `json:"password"`
}

// userDelete erases the account (account.Delete) and answers 204; the front end then clears the
// browser. It needs the account's email typed again and proof of presence: a sign-in within
// users.RecentSignIn or the password (a password that is sent must be right, and a wrong one counts
// towards the account's lock). A confirmation goes to the former address after the answer.
func userDelete(e *core.RequestEvent, cfg config.Config) error {
	var in deleteRequest
	dec := json.NewDecoder(e.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		return e.BadRequestError(msgDeleteBody, nil)
	}
	email := e.Auth.Email()
	if !strings.EqualFold(strings.TrimSpace(in.ConfirmEmail), email) {
		return e.BadRequestError("Type your account's email address to confirm.", validation.Errors{
			"confirmEmail": validation.NewError("validation_mismatch", "This is not your account's email address."),
		})
	}
	if err := provePresence(e, limitsOf(cfg), audit.MethodAccountDelete, "password", in.Password); err != nil {
		return err
	}
	reason := account.ReasonOwner
	if s, ok := sessions.Current(e); ok && s.Method == sessions.MethodImpersonation {
		reason = account.ReasonImpersonation
	}
	err := account.Delete(e.App, e.Auth, reason)
	switch {
	case errors.Is(err, users.ErrSessionEnded):
		return e.UnauthorizedError(msgSessionEnded, nil)
	case errors.Is(err, account.ErrLedger):
		return e.Error(http.StatusServiceUnavailable, msgLedgerDown, err)
	case err != nil:
		return e.InternalServerError("", err)
	}
	mail.SendLater(e.App, account.DeletedNotice(email, time.Now()))
	return e.NoContent(http.StatusNoContent)
}
