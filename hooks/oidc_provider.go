package hooks

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/config"
	"phaseflow/migrations"
	"phaseflow/oidc"
)

// OIDCProviderName is the PocketBase OAuth2 provider PhaseFlow configures for Pocket-ID.
const OIDCProviderName = "oidc"

// Discovery retry schedule when the issuer is unreachable at start.
var (
	oidcRetryFirst = 15 * time.Second
	oidcRetryMax   = 10 * time.Minute
)

// startOIDC configures the oidc provider from discovery. When the issuer is unreachable the other
// sign-in methods and the last stored provider config keep working, and discovery is retried in
// the background until it succeeds or the app stops.
func startOIDC(app core.App, cfg config.Config) {
	if !cfg.OIDC.Enabled() {
		return
	}
	notice(app, slog.LevelInfo, "Register this redirect URL at the identity provider",
		"redirectURL", cfg.OAuth2RedirectURL(), "issuer", cfg.OIDC.IssuerURL)
	if err := SyncOIDC(context.Background(), app, cfg); err == nil {
		return
	} else {
		notice(app, slog.LevelWarn, "OIDC discovery failed; keeping the last stored provider config and retrying in the background",
			"issuer", cfg.OIDC.IssuerURL, "error", err.Error())
	}
	ctx, cancel := contextForApp(app)
	go func() {
		defer cancel()
		wait := oidcRetryFirst
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			err := SyncOIDC(ctx, app, cfg)
			if err == nil {
				notice(app, slog.LevelInfo, "OIDC discovery succeeded after a retry", "issuer", cfg.OIDC.IssuerURL)
				return
			}
			notice(app, slog.LevelWarn, "OIDC discovery retry failed", "issuer", cfg.OIDC.IssuerURL, "error", err.Error(), "nextRetry", wait.String())
			wait = min(wait*2, oidcRetryMax)
		}
	}()
}

// SyncOIDC runs discovery against the configured issuer and writes the users collection's oidc
// provider. When discovery fails, a stored provider still gets the client id and secret from the
// environment, and the discovery error is returned.
func SyncOIDC(ctx context.Context, app core.App, cfg config.Config) error {
	md, err := oidc.Discover(ctx, nil, cfg.OIDC.IssuerURL)
	if err != nil {
		if syncErr := updateStoredOIDCCredentials(app, cfg.OIDC); syncErr != nil {
			app.Logger().Warn("Failed to update the stored OIDC client credentials", "error", syncErr.Error())
		}
		return err
	}
	return ApplyOIDC(app, cfg.OIDC, md)
}

// ProviderConfig builds PocketBase's provider config from discovery. It sets no userinfo URL, so
// PocketBase reads the claims from the id_token and checks its signature (jwksURL), issuer and
// audience; with a userinfo URL it would skip those checks.
func ProviderConfig(o config.OIDC, md *oidc.Metadata) core.OAuth2ProviderConfig {
	return core.OAuth2ProviderConfig{
		Name:         OIDCProviderName,
		DisplayName:  o.DisplayName,
		ClientId:     o.ClientID,
		ClientSecret: o.ClientSecret,
		AuthURL:      md.AuthorizationEndpoint,
		TokenURL:     md.TokenEndpoint,
		UserInfoURL:  "",
		PKCE:         types.Pointer(true),
		Extra: map[string]any{
			"jwksURL": md.JWKSURI,
			"issuers": []string{md.Issuer},
		},
	}
}

// ApplyOIDC stores the provider config in the users collection and turns OAuth2 on.
func ApplyOIDC(app core.App, o config.OIDC, md *oidc.Metadata) error {
	users, err := app.FindCollectionByNameOrId(migrations.Users)
	if err != nil {
		return err
	}
	pc := ProviderConfig(o, md)
	replaced := false
	for i, p := range users.OAuth2.Providers {
		if p.Name == OIDCProviderName {
			users.OAuth2.Providers[i] = pc
			replaced = true
		}
	}
	if !replaced {
		users.OAuth2.Providers = append(users.OAuth2.Providers, pc)
	}
	users.OAuth2.Enabled = true
	if err := app.Save(users); err != nil {
		return fmt.Errorf("failed to save the oidc provider: %w", err)
	}
	return nil
}

func updateStoredOIDCCredentials(app core.App, o config.OIDC) error {
	users, err := app.FindCollectionByNameOrId(migrations.Users)
	if err != nil {
		return err
	}
	for i, p := range users.OAuth2.Providers {
		if p.Name == OIDCProviderName {
			if p.ClientId == o.ClientID && p.ClientSecret == o.ClientSecret && p.DisplayName == o.DisplayName {
				return nil
			}
			users.OAuth2.Providers[i].ClientId = o.ClientID
			users.OAuth2.Providers[i].ClientSecret = o.ClientSecret
			users.OAuth2.Providers[i].DisplayName = o.DisplayName
			return app.Save(users)
		}
	}
	return nil
}
