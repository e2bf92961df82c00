package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/audit"
)

// The audit's method field gains account_export (GET /api/user/export) and account_delete (an
// account's erasure, whose success row is anonymised). Added to what the field holds, like
// user_create.
func init() {
	m.Register(func(app core.App) error {
		return addSelectValues(app, audit.Collection, audit.FieldMethod, "account_export", "account_delete")
	}, func(app core.App) error {
		return removeSelectValues(app, audit.Collection, audit.FieldMethod, "account_export", "account_delete")
	})
}
