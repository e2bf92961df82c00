// Package oidc discovers and checks an OpenID Connect issuer (PhaseFlow's
// Pocket-ID) before PocketBase's OIDC provider is configured with it.
//
// It reads the issuer's discovery document (OpenID Connect Discovery 1.0) and
// refuses anything PocketBase could not sign users in with safely: an issuer
// that is not the configured one, a missing or non-https endpoint, or a
// provider without S256 PKCE. It imports only the standard library, so it can
// be tested and reused without an app.
package oidc
