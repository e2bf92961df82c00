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

// retrySchedule is when discovery is retried while the provider is unavailable: the first
// retry after first, then doubling up to max.
type retrySchedule struct {
	first, max time.Duration
}

// next is the wait after one of wait.
func (s retrySchedule) next(wait time.Duration) time.Duration {
	return min(wait*2, s.max)
}

// oidcRetry is the schedule of StartOIDC: 15 s, 30 s, 1 min, … up to 10 min.
var oidcRetry = retrySchedule{first: 15 * time.Second, max: 10 * time.Minute}

// StartOIDC configures the oidc provider from discovery. A configuration error (see
// oidc.IsConfigError: an issuer mismatch such as a trailing slash, an invalid document, a
// redirect) is reported once as an error and not retried, since only a fix and a restart can
// help. Anything else is treated as an outage: the other sign-in methods and the last stored
// provider config keep working, and discovery is retried in the background (15 s, doubling up
// to 10 min) until it succeeds, meets a configuration error, or ctx ends. Every notice of a
// failed attempt states the wait before the next one.
func StartOIDC(ctx context.Context, app core.App, cfg config.Config) {
	startOIDC(ctx, app, cfg, oidcRetry)
}

// startOIDC is StartOIDC with a retry schedule; the returned channel is closed once no discovery
// is pending any more.
func startOIDC(ctx context.Context, app core.App, cfg config.Config, schedule retrySchedule) <-chan struct{} {
	done := make(chan struct{})
	if !cfg.OIDC.Enabled() {
		close(done)
		return done
	}
	Notice(app, slog.LevelInfo, "Register this redirect URL at the identity provider",
		"redirectURL", cfg.OAuth2RedirectURL(), "issuer", cfg.OIDC.IssuerURL)
	wait := schedule.first
	if !reportDiscovery(ctx, app, cfg, SyncOIDC(ctx, app, cfg), false, wait) {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		for {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			wait = schedule.next(wait)
			if !reportDiscovery(ctx, app, cfg, SyncOIDC(ctx, app, cfg), true, wait) {
				return
			}
		}
	}()
	return done
}

// reportDiscovery tells the operator how a discovery attempt went and reports whether to retry
// it after next.
func reportDiscovery(ctx context.Context, app core.App, cfg config.Config, err error, retried bool, next time.Duration) bool {
	issuer := cfg.OIDC.IssuerURL
	switch {
	case err == nil:
		if retried {
			Notice(app, slog.LevelInfo, "OIDC discovery succeeded after a retry", "issuer", issuer)
		}
		noticeLogoutURL(app, cfg)
		return false
	case ctx.Err() != nil:
		return false // shutting down: the failure is the cancellation
	case oidc.IsConfigError(err):
		Notice(app, slog.LevelError, "OIDC configuration error: fix POCKETBASE_OIDC_ISSUER_URL (or the provider) and restart; discovery is not retried",
			"issuer", issuer, "error", err.Error())
		return false
	case retried:
		Notice(app, slog.LevelWarn, "OIDC discovery retry failed", "issuer", issuer, "error", err.Error(), "nextRetry", next.String())
	case OIDCProviderStored(app):
		Notice(app, slog.LevelWarn, "OIDC discovery failed; keeping the last stored provider config and retrying in the background",
			"issuer", issuer, "error", err.Error(), "nextRetry", next.String())
	default:
		Notice(app, slog.LevelWarn, "OIDC discovery failed; sign-in with the provider is unavailable until a retry in the background succeeds",
			"issuer", issuer, "error", err.Error(), "nextRetry", next.String())
	}
	return true
}

// OIDCProviderStored reports whether the users collection offers the oidc provider for sign-in
// (OAuth2 on and the provider stored), which is what PocketBase's auth-methods lists. On a fresh
// data dir it stays false until the first successful discovery.
func OIDCProviderStored(app core.App) bool {
	col, err := app.FindCachedCollectionByNameOrId(users.Collection)
	if err != nil {
		return false
	}
	_, ok := col.OAuth2.GetProviderConfig(users.OIDCProvider)
	return ok && col.OAuth2.Enabled
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
