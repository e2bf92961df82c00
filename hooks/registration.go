package hooks

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"phaseflow/config"
	"phaseflow/migrations"
)

// providerTokenKeys are the identity provider's own tokens that PocketBase copies into the auth
// response meta. The browser needs only PhaseFlow's token, so they never leave the server.
var providerTokenKeys = []string{"accessToken", "refreshToken", "expiry"}

func bindRegistration(app core.App, cfg config.Config) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:       "phaseflowOAuth2NoLinking",
			Priority: apis.DefaultLoadAuthTokenMiddlewarePriority + 1,
			Func:     ignoreAuthOnOAuth2,
		})
		return se.Next()
	})

	app.OnRecordAuthWithOAuth2Request(migrations.Users).BindFunc(func(e *core.RecordAuthWithOAuth2RequestEvent) error {
		// Sign-up data comes from the identity provider only: a client-chosen email would create
		// an unverified account for someone else's address.
		e.CreateData = nil
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
				updateName(e.App, e.Record, e.OAuth2User.Name)
			}
		}
		return e.Next()
	})

	app.OnRecordAuthRequest(migrations.Users).BindFunc(func(e *core.RecordAuthRequestEvent) error {
		// Without mail there is no second factor; an account that asked for one must not fall
		// back to a password or code alone.
		if (e.AuthMethod == core.MFAMethodPassword || e.AuthMethod == core.MFAMethodOTP) &&
			e.Record.GetBool(migrations.FieldMFA) && !e.Collection.MFA.Enabled {
			return e.ForbiddenError("This account needs a second factor, which this server cannot send right now. Sign in with the identity provider instead.", nil)
		}
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

// ignoreAuthOnOAuth2 drops the caller's token on the OAuth2 sign-in endpoint. PocketBase would
// otherwise link the OAuth2 identity to the signed-in account: anyone holding a stolen token could
// attach their own identity-provider login to it, and a shared browser would do it by accident.
// PhaseFlow links identities only by verified email.
func ignoreAuthOnOAuth2(e *core.RequestEvent) error {
	if e.Request.Method == http.MethodPost && strings.HasSuffix(e.Request.URL.Path, "/auth-with-oauth2") {
		e.Auth = nil
	}
	return e.Next()
}

// updateName writes the identity provider's name to a freshly read copy of the record, so no
// other column of the possibly older in-memory record is written back. The in-memory record gets
// the name too, for the sign-in response.
func updateName(app core.App, r *core.Record, name string) {
	fresh, err := app.FindRecordById(migrations.Users, r.Id)
	if err == nil {
		fresh.Set(migrations.FieldName, name)
		err = app.Save(fresh)
	}
	if err != nil {
		app.Logger().Warn("Failed to update the name from the identity provider", "user", r.Id, "error", err.Error())
		return
	}
	r.Set(migrations.FieldName, name)
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
	// End the sessions the old identity may have started.
	user.RefreshTokenKey()
	if err := app.Save(user); err != nil {
		return n, err
	}
	return n, RecordAuthEvent(app, AuthEvent{
		Method: migrations.MethodOAuth2, Outcome: migrations.OutcomeSuccess, UserID: user.Id,
		Collection: migrations.Users, Actor: "cli",
		Reason: fmt.Sprintf("Unlinked %d OIDC identities with ./app oidc unlink; sessions ended.", n),
	})
}
