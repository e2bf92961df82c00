package routes

import (
	"net/http"
	netmail "net/mail"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/mails"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/internal/reqbody"
	"phaseflow/mail"
	"phaseflow/users"
)

// emailChangePath is PocketBase's email-change request of the users collection.
const emailChangePath = "/api/collections/" + users.Collection + "/request-email-change"

// uniformEmailChange answers PocketBase's email-change request itself, for the users
// collection: PocketBase says "Invalid new email address." for an address another account has,
// which tells whoever holds a token that the address has an account here (and so that its
// owner tracks their cycle). Both cases answer 204 at once; the confirmation link goes to a free
// address, a notice to a taken one, after the answer. It is a router middleware.
func uniformEmailChange(cfg config.Config) func(*core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		if e.Request.Method != http.MethodPost || e.Request.URL.Path != emailChangePath {
			return e.Next()
		}
		if e.Auth == nil || e.Auth.Collection().Name != users.Collection {
			return e.UnauthorizedError("Sign in first to change your email address.", nil)
		}
		raw, err := reqbody.String(e, "newEmail")
		if err != nil {
			return e.BadRequestError(`Send {"newEmail": "you@example.com"}.`, nil)
		}
		newEmail := strings.ToLower(strings.TrimSpace(raw))
		if a, err := netmail.ParseAddress(newEmail); err != nil || a.Address != newEmail || len(newEmail) > 254 {
			return e.BadRequestError("Enter the new email address, e.g. you@example.com.", nil)
		}
		if newEmail == e.Auth.Email() {
			return e.BadRequestError("This is already your email address.", nil)
		}
		_, findErr := e.App.FindAuthRecordByEmail(users.Collection, newEmail)
		taken := findErr == nil
		record := e.Auth
		app := e.App
		if taken {
			mail.SendLater(app, mail.Message{
				To:      newEmail,
				Subject: "Someone tried to move a PhaseFlow account to your address",
				Text: "The owner of another PhaseFlow account asked to change its email address to this one, which already has an account. " +
					"Nothing was changed.\n\nIf it was you, sign in to the other account and choose another address.",
				Link: &mail.Link{Label: "Sign in", URL: cfg.AppURL + "/login"},
			})
		} else {
			go func() {
				if err := mails.SendRecordChangeEmail(app, record, newEmail); err != nil {
					app.Logger().Error("Failed to send the email-change mail", "user", record.Id, "error", err.Error())
				}
			}()
		}
		audit.Request(e, audit.MethodEmailChange, audit.OutcomeSuccess, "Email change requested; a link went to the new address.")
		return e.NoContent(http.StatusNoContent)
	}
}
