// Package routes binds PhaseFlow's HTTP routes to PocketBase's router. Handlers are thin: parse,
// call the domain (cycle), save, respond.
package routes

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
)

// Register binds every PhaseFlow route. It is called by main and by tests.
func Register(app core.App, cfg config.Config) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		bindFeedRedaction(se)
		bindAPIFallback(se)
		bindUserProfile(se, cfg)
		bindUserSecurity(se, cfg)
		bindCalendarFeed(se, cfg)
		bindCron(se, cfg)
		bindPages(se, cfg)
		return se.Next()
	})
}

// bindAPIFallback answers unknown /api/ paths with a JSON 404, so the front end's page routes
// never shadow them.
func bindAPIFallback(se *core.ServeEvent) {
	se.Router.Any("/api/{path...}", func(e *core.RequestEvent) error {
		// A malformed feed URL gets the feed's own 404, like any other feed failure.
		if strings.HasPrefix(e.Request.URL.Path, feedPathPrefix) {
			return e.NotFoundError(feedNotFound, nil)
		}
		return e.NotFoundError("The requested resource wasn't found.", nil)
	})
}
