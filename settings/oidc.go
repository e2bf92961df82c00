package settings

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/config"
	"phaseflow/oidc"
	"phaseflow/sessions"
	"phaseflow/users"
)

// Discovery retry schedule when the issuer is unreachable at start.
var (
	oidcRetryFirst = 15 * time.Second
	oidcRetryMax   = 10 * time.Minute
)

// StartOIDC configures the oidc provider from discovery. When the issuer is unreachable the other
// sign-in methods and the last stored provider config keep working, and discovery is retried in
// the background until it succeeds or ctx ends.
func StartOIDC(ctx context.Context, app core.App, cfg config.Config) {
	if !cfg.OIDC.Enabled() {
		return
	}
	Notice(app, slog.LevelInfo, "Register this redirect URL at the identity provider",
		"redirectURL", cfg.OAuth2RedirectURL(), "issuer", cfg.OIDC.IssuerURL)
	err := SyncOIDC(ctx, app, cfg)
	if err == nil {
		noticeLogoutURL(app, cfg)
		return
	}
	Notice(app, slog.LevelWarn, "OIDC discovery failed; keeping the last stored provider config and retrying in the background",
		"issuer", cfg.OIDC.IssuerURL, "error", err.Error())
	go func() {
		wait := oidcRetryFirst
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			err := SyncOIDC(ctx, app, cfg)
			if err == nil {
				Notice(app, slog.LevelInfo, "OIDC discovery succeeded after a retry", "issuer", cfg.OIDC.IssuerURL)
				noticeLogoutURL(app, cfg)
				return
			}
			wait = min(wait*2, oidcRetryMax)
			Notice(app, slog.LevelWarn, "OIDC discovery retry failed", "issuer", cfg.OIDC.IssuerURL, "error", err.Error(), "nextRetry", wait.String())
		}
	}()
}

// noticeLogoutURL tells the operator the logout callback URL to register, when the provider
// supports RP-initiated logout.
func noticeLogoutURL(app core.App, cfg config.Config) {
	col, err := app.FindCachedCollectionByNameOrId(users.Collection)
	if err != nil {
		return
	}
	if pc, ok := col.OAuth2.GetProviderConfig(users.OIDCProvider); ok && pc.Extra[sessions.ExtraEndSessionURL] != "" {
		Notice(app, slog.LevelInfo, "Register this logout callback URL at the identity provider (sign-out there too)",
			"logoutURL", cfg.AppURL+sessions.LogoutPath)
	}
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
		Name:         users.OIDCProvider,
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
			// Not PocketBase's: PhaseFlow's RP-initiated logout reads it.
			sessions.ExtraEndSessionURL: md.EndSessionEndpoint,
		},
	}
}

// ApplyOIDC stores the provider config in the users collection and turns OAuth2 on.
func ApplyOIDC(app core.App, o config.OIDC, md *oidc.Metadata) error {
	col, err := app.FindCollectionByNameOrId(users.Collection)
	if err != nil {
		return err
	}
	pc := ProviderConfig(o, md)
	replaced := false
	for i, p := range col.OAuth2.Providers {
		if p.Name == users.OIDCProvider {
			col.OAuth2.Providers[i] = pc
			replaced = true
		}
	}
	if !replaced {
		col.OAuth2.Providers = append(col.OAuth2.Providers, pc)
	}
	col.OAuth2.Enabled = true
	if err := app.Save(col); err != nil {
		return fmt.Errorf("failed to save the oidc provider: %w", err)
	}
	return nil
}

func updateStoredOIDCCredentials(app core.App, o config.OIDC) error {
	col, err := app.FindCollectionByNameOrId(users.Collection)
	if err != nil {
		return err
	}
	for i, p := range col.OAuth2.Providers {
		if p.Name == users.OIDCProvider {
			if p.ClientId == o.ClientID && p.ClientSecret == o.ClientSecret && p.DisplayName == o.DisplayName {
				return nil
			}
			col.OAuth2.Providers[i].ClientId = o.ClientID
			col.OAuth2.Providers[i].ClientSecret = o.ClientSecret
			col.OAuth2.Providers[i].DisplayName = o.DisplayName
			return app.Save(col)
		}
	}
	return nil
}
