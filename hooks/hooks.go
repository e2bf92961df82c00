// Package hooks binds PhaseFlow's PocketBase hooks: configuration applied at start, the OIDC
// provider, registration policy, profile invariants, the sign-in audit and development mail.
package hooks

import (
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
)

// Register binds every PhaseFlow hook to app. It is called by main and by tests.
func Register(app core.App, cfg config.Config) {
	bindStartup(app, cfg)
	bindProfile(app, cfg)
	bindRegistration(app, cfg)
	bindAudit(app, cfg)
	bindMail(app, cfg)
	bindAuthTime(app)
}
