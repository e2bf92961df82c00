package migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/audit"
)

// The audit's method field gains account_export (GET /api/user/export) and account_delete (an
// account's erasure, whose success row is anonymised).
func init() {
	credentials := append(methodsV1(),
		"oidc_unlink", "logout", "session_end", "logout_others",
		"account_lock", "password_change", "signup", "signup_request", "email_change_request")
	m.Register(func(app core.App) error {
		return setSelectValues(app, audit.Collection, audit.FieldMethod, slices.Concat(credentials, []string{"account_export", "account_delete"}))
	}, func(app core.App) error {
		return setSelectValues(app, audit.Collection, audit.FieldMethod, credentials)
	})
}
