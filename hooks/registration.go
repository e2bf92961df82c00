package hooks

import (
	"database/sql"
	"errors"
	"maps"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/migrations"
)

// providerTokenKeys are the identity provider's own tokens that PocketBase copies into the auth
// response meta. The browser needs only PhaseFlow's token, so they never leave the server.
var providerTokenKeys = []string{"accessToken", "refreshToken", "expiry"}

func bindRegistration(app core.App, cfg config.Config) {
	app.OnRecordAuthWithOAuth2Request(migrations.Users).BindFunc(func(e *core.RecordAuthWithOAuth2RequestEvent) error {
		if e.Record == nil {
			if e.OAuth2User == nil || e.OAuth2User.Email == "" {
				return e.ForbiddenError("The identity provider did not return a verified email address. Ask the operator to mark your email as verified at the identity provider.", nil)
			}
			if !cfg.OpenRegistration {
				return e.ForbiddenError("No account for this identity. Ask the operator to create an account for your email address.", nil)
			}
		} else {
			if err := checkExistingLink(e); err != nil {
				return err
			}
			if e.ProviderName == OIDCProviderName && e.OAuth2User != nil && e.OAuth2User.Name != "" &&
				e.Record.GetString(migrations.FieldName) != e.OAuth2User.Name {
				e.Record.Set(migrations.FieldName, e.OAuth2User.Name)
				if err := e.App.Save(e.Record); err != nil {
					e.App.Logger().Warn("Failed to update the name from the identity provider", "user", e.Record.Id, "error", err.Error())
				}
			}
		}
		return e.Next()
	})

	app.OnRecordAuthRequest(migrations.Users).BindFunc(func(e *core.RecordAuthRequestEvent) error {
		// Superusers may impersonate an account that waits for approval, to help its owner.
		if cfg.RegistrationApproval && !e.Record.GetBool(migrations.FieldApproved) && !e.HasSuperuserAuth() {
			return e.ForbiddenError("This account is waiting for approval by an administrator.", nil)
		}
		if meta, ok := e.Meta.(map[string]any); ok {
			meta = maps.Clone(meta)
			for _, k := range providerTokenKeys {
				delete(meta, k)
			}
			e.Meta = meta
		}
		return e.Next()
	})
}

// checkExistingLink gives a clear error when the account is already linked to another identity of
// the same provider (for example after the identity provider's data was recreated and the person
// got a new subject id); PocketBase would answer only "Failed to authenticate.".
func checkExistingLink(e *core.RecordAuthWithOAuth2RequestEvent) error {
	if e.OAuth2User == nil {
		return nil
	}
	links, err := e.App.FindAllExternalAuthsByRecord(e.Record)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e.InternalServerError("", err)
	}
	for _, l := range links {
		if l.Provider() == e.ProviderName && l.ProviderId() != e.OAuth2User.Id {
			return e.BadRequestError("This account is already linked to a different identity at the identity provider. Ask the operator to unlink it (./app oidc unlink EMAIL).", nil)
		}
	}
	return nil
}

// UnlinkOIDC removes the account's links to the oidc provider, so its next OIDC sign-in links the
// current identity by verified email. It reports how many links were removed.
func UnlinkOIDC(app core.App, email string) (int, error) {
	user, err := app.FindAuthRecordByEmail(migrations.Users, email)
	if err != nil {
		return 0, err
	}
	links, err := app.FindAllExternalAuthsByRecord(user)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range links {
		if l.Provider() != OIDCProviderName {
			continue
		}
		if err := app.Delete(l); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
