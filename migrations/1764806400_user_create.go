package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/audit"
)

// The audit's method field gains user_create, the ./app users create command. The value is
// added to whatever the field holds (not a whole list), so migrations written side by side that
// add other methods compose in either order.
func init() {
	m.Register(func(app core.App) error {
		return addSelectValues(app, audit.Collection, audit.FieldMethod, "user_create")
	}, func(app core.App) error {
		return removeSelectValues(app, audit.Collection, audit.FieldMethod, "user_create")
	})
}
