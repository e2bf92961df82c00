package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/audit"
)

// The audit's method field takes every value of audit.Methods (new in this release: oidc_unlink,
// the ./app oidc unlink command, which earlier rows recorded as oauth2 by the cli actor).
func init() {
	m.Register(func(app core.App) error {
		return setSelectValues(app, audit.Collection, audit.FieldMethod, audit.Methods)
	}, func(app core.App) error {
		return setSelectValues(app, audit.Collection, audit.FieldMethod, []string{
			"password", "otp_request", "otp", "oauth2", "refresh", "impersonate",
			"logout_all", "mfa_setting", "calendar_token", "cron",
		})
	})
}
