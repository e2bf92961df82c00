// Package routes binds PhaseFlow's HTTP routes to PocketBase's router. Handlers are thin: parse,
// call the domain, save, respond; errors leave the domain as values and are mapped to HTTP
// answers here.
package routes

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/sessions"
)

// Register binds every PhaseFlow route and global middleware. It is called by main and by tests.
func Register(app core.App, cfg config.Config) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		lifetimes := sessions.LifetimesFromDays(cfg.SessionDays, cfg.SessionMaxDays)
		bindMiddlewares(se, cfg, lifetimes)

		// Everything under /api/user is the signed-in user's own: header token, users only.
		user := se.Router.Group("/api/user")
		user.BindFunc(requireUser)
		bindUserProfile(user)
		bindUserSecurity(user, cfg)
		bindUserSessions(user, cfg)
		bindUserPassword(user, cfg)
		bindUserCalendarToken(user, cfg)
		bindUserExport(user)
		bindUserDelete(user, cfg)

		bindSignup(se, cfg)
		bindHealth(se)
		bindCalendarFeed(se, cfg)
		bindCron(se, cfg)
		bindPages(se, cfg, lifetimes)
		bindAPIFallback(se)
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
