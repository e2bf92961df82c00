package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/audit"
)

// The audit's method field gains oidc_unlink, the ./app oidc unlink command, which earlier rows
// recorded as oauth2 by the cli actor.
func init() {
	m.Register(func(app core.App) error {
		return setSelectValues(app, audit.Collection, audit.FieldMethod, append(methodsV1(), "oidc_unlink"))
	}, func(app core.App) error {
		return setSelectValues(app, audit.Collection, audit.FieldMethod, methodsV1())
	})
}
