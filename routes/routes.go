// Package routes binds PhaseFlow's HTTP routes to PocketBase's router.
package routes

import (
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
)

// Register binds every PhaseFlow route. It is called by main and by tests.
func Register(app core.App, cfg config.Config) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		bindAPIFallback(se)
		return se.Next()
	})
}

// bindAPIFallback answers unknown /api/ paths with a JSON 404, so the front end's page routes
// never shadow them.
func bindAPIFallback(se *core.ServeEvent) {
	se.Router.Any("/api/{path...}", func(e *core.RequestEvent) error {
		return e.NotFoundError("The requested resource wasn't found.", nil)
	})
}
