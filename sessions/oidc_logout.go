package sessions

import (
	"net/url"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/auth"
	"golang.org/x/oauth2"

	"phaseflow/users"
)

// ExtraEndSessionURL is the key of the identity provider's end_session_endpoint (from discovery)
// in the oidc provider's Extra settings.
const ExtraEndSessionURL = "endSessionURL"

// LogoutPath is where the identity provider sends the browser back after RP-initiated logout;
// register APP_URL + LogoutPath as the client's logout callback URL.
const LogoutPath = "/login"

// idTokenKey is the request-store key of the id_token of an OIDC sign-in.
const idTokenKey = "phaseflow.idToken"

// capturedTTL bounds how long a captured id_token waits for its sign-in's hook.
const capturedTTL = time.Minute

type captured struct {
	idToken string
	at      time.Time
}

// idTokens hands the id_token from the provider's code exchange to the sign-in's hooks, keyed by
// the provider's access token: PocketBase gives hooks the claims, not the id_token itself.
var idTokens sync.Map

// capturingOIDC is PocketBase's OIDC provider that also keeps the id_token of the exchange.
type capturingOIDC struct{ *auth.OIDC }

// FetchAuthUser implements auth.Provider.
func (p *capturingOIDC) FetchAuthUser(token *oauth2.Token) (*auth.AuthUser, error) {
	u, err := p.OIDC.FetchAuthUser(token)
	if err != nil || u.AccessToken == "" {
		return u, err
	}
	if id, ok := token.Extra("id_token").(string); ok && id != "" {
		now := time.Now()
		idTokens.Range(func(k, v any) bool {
			if now.Sub(v.(captured).at) > capturedTTL {
				idTokens.Delete(k)
			}
			return true
		})
		idTokens.Store(u.AccessToken, captured{idToken: id, at: now})
	}
	return u, err
}

// The oidc provider is replaced once, before any app serves: PocketBase looks providers up in a
// package map, which must not change while requests read it.
func init() {
	auth.Providers[users.OIDCProvider] = func() auth.Provider {
		return &capturingOIDC{OIDC: auth.NewOIDCProvider()}
	}
}

// TakeIDToken moves the id_token of an OIDC sign-in into the request, for the session it starts
// (RP-initiated logout needs it as id_token_hint). It is an OnRecordAuthWithOAuth2Request
// handler and runs before any handler that can refuse, so a refused sign-in leaves nothing
// behind.
func TakeIDToken(e *core.RecordAuthWithOAuth2RequestEvent) error {
	if e.OAuth2User != nil && e.OAuth2User.AccessToken != "" {
		if v, ok := idTokens.LoadAndDelete(e.OAuth2User.AccessToken); ok && e.ProviderName == users.OIDCProvider {
			e.Set(idTokenKey, v.(captured).idToken)
		}
	}
	return e.Next()
}

// IdentityProviderLogoutURL returns the identity provider's RP-initiated logout URL (OpenID
// Connect RP-Initiated Logout 1.0) for a session that signed in with it, or "" when there is
// none: the provider lists no end_session_endpoint, or the session kept no id_token. The
// provider sends the browser back to appURL + LogoutPath, which must be registered there.
func IdentityProviderLogoutURL(app core.App, s Session, appURL string) string {
	if s.IDToken == "" {
		return ""
	}
	col, err := app.FindCachedCollectionByNameOrId(users.Collection)
	if err != nil {
		return ""
	}
	pc, ok := col.OAuth2.GetProviderConfig(users.OIDCProvider)
	if !ok {
		return ""
	}
	endpoint, _ := pc.Extra[ExtraEndSessionURL].(string)
	u, err := url.Parse(endpoint)
	if endpoint == "" || err != nil {
		return ""
	}
	q := u.Query()
	q.Set("id_token_hint", s.IDToken)
	q.Set("post_logout_redirect_uri", appURL+LogoutPath)
	q.Set("client_id", pc.ClientId)
	u.RawQuery = q.Encode()
	return u.String()
}
