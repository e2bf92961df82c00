package routes

import (
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/settings"
)

// OIDCStatus is the identity provider's part of GET /api/app-config. It lets the sign-in page
// tell "no identity provider" from "the identity provider is unavailable": auth-methods lists
// the provider only once discovery has stored it, so on a fresh data dir whose provider is down
// the button would otherwise be missing without a word. It says nothing the sign-in page does
// not show anyway.
type OIDCStatus struct {
	// Configured reports whether POCKETBASE_OIDC_* are set.
	Configured bool `json:"configured"`
	// Available reports whether the provider is stored and offered for sign-in (what
	// auth-methods lists).
	Available bool `json:"available"`
	// DisplayName is the button label ("" when not configured).
	DisplayName string `json:"displayName"`
}

// oidcStatus reads the identity provider's state.
func oidcStatus(app core.App, cfg config.Config) OIDCStatus {
	if !cfg.OIDC.Enabled() {
		return OIDCStatus{}
	}
	return OIDCStatus{Configured: true, Available: settings.OIDCProviderStored(app), DisplayName: cfg.OIDC.DisplayName}
}
