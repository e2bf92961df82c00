package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// AuthRecord is the account a sign-in returned.
type AuthRecord struct {
	// ID is the record id.
	ID string `json:"id"`
	// CollectionID is the id of the record's auth collection.
	CollectionID string `json:"collectionId"`
	// CollectionName is the name of the record's auth collection ("users", "_superusers").
	CollectionName string `json:"collectionName"`
	// Email is the account's email address.
	Email string `json:"email"`
	// Verified reports whether the email address is verified.
	Verified bool `json:"verified"`
}

// authResponse is PocketBase's answer to every sign-in: {"token", "record", "meta"}.
type authResponse struct {
	Token  string     `json:"token"`
	Record AuthRecord `json:"record"`
}

// AuthOption changes one sign-in call.
type AuthOption func(*authOptions)

type authOptions struct {
	mfaID string
}

// WithMFA continues a sign-in whose first factor answered *MFARequiredError: pass its MFAID to
// the second factor's call.
func WithMFA(mfaID string) AuthOption {
	return func(o *authOptions) { o.mfaID = mfaID }
}

// authBody adds the options to a sign-in body. The MFA id goes in the body rather than the
// query (PocketBase reads either), so it stays out of request logs.
func authBody(body map[string]any, opts []AuthOption) map[string]any {
	var o authOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.mfaID != "" {
		body["mfaId"] = o.mfaID
	}
	return body
}

// signIn posts a sign-in request to collection and keeps the token it returns. The request
// carries no token: a sign-in must not depend on (or link to) the session the Client held.
func (c *Client) signIn(ctx context.Context, collection, action string, body map[string]any) (AuthRecord, error) {
	var out authResponse
	err := c.send(ctx, request{method: "POST", path: collectionPath(collection, action), body: body, out: &out})
	if err != nil {
		return AuthRecord{}, err
	}
	if out.Token == "" {
		return AuthRecord{}, errors.New("failed to sign in: the answer holds no token")
	}
	c.setToken(out.Token, collection)
	return out.Record, nil
}

func collectionPath(collection, action string) string {
	return "/api/collections/" + url.PathEscape(collection) + "/" + action
}

// AuthWithPassword signs in with an identity (the email address) and password, and keeps the
// token. A wrong pair is an *Error with status 400; an account with a second factor answers
// *MFARequiredError.
func (c *Client) AuthWithPassword(ctx context.Context, identity, password string, opts ...AuthOption) (AuthRecord, error) {
	return c.signIn(ctx, c.collection, "auth-with-password",
		authBody(map[string]any{"identity": identity, "password": password}, opts))
}

// AuthSuperuser signs in a superuser (collection SuperuserCollection) and keeps the token, for
// Impersonate and the admin API through Do. When the server has a mailer, superusers need a
// second factor: this answers *MFARequiredError, and RequestSuperuserOTP with
// AuthSuperuserWithOTP(…, WithMFA(id)) finish the sign-in.
func (c *Client) AuthSuperuser(ctx context.Context, email, password string, opts ...AuthOption) (AuthRecord, error) {
	return c.signIn(ctx, SuperuserCollection, "auth-with-password",
		authBody(map[string]any{"identity": email, "password": password}, opts))
}

// RequestOTP asks the server to email a one-time code to email and returns the id to pass to
// AuthWithOTP. The server answers with an id for unknown addresses too, and sends no mail.
func (c *Client) RequestOTP(ctx context.Context, email string) (otpID string, err error) {
	return c.requestOTP(ctx, c.collection, email)
}

// RequestSuperuserOTP is RequestOTP for a superuser's second factor.
func (c *Client) RequestSuperuserOTP(ctx context.Context, email string) (otpID string, err error) {
	return c.requestOTP(ctx, SuperuserCollection, email)
}

func (c *Client) requestOTP(ctx context.Context, collection, email string) (otpID string, err error) {
	var out struct {
		OTPID string `json:"otpId"`
	}
	err = c.send(ctx, request{method: "POST", path: collectionPath(collection, "request-otp"),
		body: map[string]any{"email": email}, out: &out})
	if err != nil {
		return "", err
	}
	if out.OTPID == "" {
		return "", errors.New("failed to request a code: the answer holds no otpId")
	}
	return out.OTPID, nil
}

// AuthWithOTP signs in with the id from RequestOTP and the mailed code, and keeps the token.
func (c *Client) AuthWithOTP(ctx context.Context, otpID, code string, opts ...AuthOption) (AuthRecord, error) {
	return c.signIn(ctx, c.collection, "auth-with-otp",
		authBody(map[string]any{"otpId": otpID, "password": code}, opts))
}

// AuthSuperuserWithOTP is AuthWithOTP for a superuser, with the id from RequestSuperuserOTP.
func (c *Client) AuthSuperuserWithOTP(ctx context.Context, otpID, code string, opts ...AuthOption) (AuthRecord, error) {
	return c.signIn(ctx, SuperuserCollection, "auth-with-otp",
		authBody(map[string]any{"otpId": otpID, "password": code}, opts))
}

// AuthWithOAuth2Code finishes an OAuth2 redirect flow: it exchanges the code the provider sent
// to redirectURL, with the provider's CodeVerifier from AuthMethods, and keeps the token. The
// caller checks that the returned state equals the provider's State before calling it.
func (c *Client) AuthWithOAuth2Code(ctx context.Context, provider, code, codeVerifier, redirectURL string, opts ...AuthOption) (AuthRecord, error) {
	return c.signIn(ctx, c.collection, "auth-with-oauth2", authBody(map[string]any{
		"provider": provider, "code": code, "codeVerifier": codeVerifier, "redirectURL": redirectURL,
	}, opts))
}

// AuthMethods lists the sign-in methods of the Client's collection.
type AuthMethods struct {
	// Password is sign-in with an identity and a password.
	Password PasswordMethod
	// OTP is sign-in with a code sent by email.
	OTP OTPMethod
	// MFA is the second factor some accounts need.
	MFA MFAMethod
	// OAuth2 is sign-in through an identity provider.
	OAuth2 OAuth2Method
}

// PasswordMethod describes password sign-in.
type PasswordMethod struct {
	// Enabled reports whether password sign-in is on.
	Enabled bool `json:"enabled"`
	// IdentityFields are the fields an identity is matched against (["email"]).
	IdentityFields []string `json:"identityFields"`
}

// OTPMethod describes sign-in with an emailed code.
type OTPMethod struct {
	// Enabled reports whether codes can be requested.
	Enabled bool
	// Duration is how long a code stays valid.
	Duration time.Duration
}

// MFAMethod describes the second factor.
type MFAMethod struct {
	// Enabled reports whether accounts can be asked for a second factor.
	Enabled bool
	// Duration is how long an MFAID stays valid.
	Duration time.Duration
}

// OAuth2Method describes sign-in through identity providers.
type OAuth2Method struct {
	// Enabled reports whether OAuth2 sign-in is on.
	Enabled bool `json:"enabled"`
	// Providers are the configured providers, each with a fresh state and PKCE verifier.
	Providers []OAuth2Provider `json:"providers"`
}

// OAuth2Provider is one identity provider and the secrets of one redirect flow through it.
type OAuth2Provider struct {
	// Name identifies the provider in AuthWithOAuth2Code ("oidc" for Pocket-ID).
	Name string `json:"name"`
	// DisplayName is the label for a sign-in button.
	DisplayName string `json:"displayName"`
	// State is the value the provider must send back unchanged.
	State string `json:"state"`
	// AuthURL is the provider's authorization URL, ending in "redirect_uri="; see AuthCodeURL.
	AuthURL string `json:"authURL"`
	// CodeVerifier is the PKCE verifier to pass to AuthWithOAuth2Code. Keep it secret.
	CodeVerifier string `json:"codeVerifier"`
	// CodeChallenge is the PKCE challenge already included in AuthURL.
	CodeChallenge string `json:"codeChallenge"`
	// CodeChallengeMethod is the PKCE method of CodeChallenge ("S256").
	CodeChallengeMethod string `json:"codeChallengeMethod"`
}

// AuthCodeURL returns the address to send a person to: AuthURL completed with redirectURL, the
// page that receives the code (registered at the provider).
func (p OAuth2Provider) AuthCodeURL(redirectURL string) string {
	return p.AuthURL + url.QueryEscape(redirectURL)
}

// Provider returns the provider called name, or false.
func (m AuthMethods) Provider(name string) (OAuth2Provider, bool) {
	for _, p := range m.OAuth2.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return OAuth2Provider{}, false
}

// AuthMethods returns the sign-in methods of the Client's collection. Each call yields new
// OAuth2 states and verifiers.
func (c *Client) AuthMethods(ctx context.Context) (AuthMethods, error) {
	type timed struct {
		Enabled  bool  `json:"enabled"`
		Duration int64 `json:"duration"` // seconds
	}
	var out struct {
		Password PasswordMethod `json:"password"`
		OTP      timed          `json:"otp"`
		MFA      timed          `json:"mfa"`
		OAuth2   OAuth2Method   `json:"oauth2"`
	}
	err := c.send(ctx, request{method: "GET", path: collectionPath(c.collection, "auth-methods"), out: &out})
	if err != nil {
		return AuthMethods{}, err
	}
	return AuthMethods{
		Password: out.Password,
		OTP:      OTPMethod{Enabled: out.OTP.Enabled, Duration: time.Duration(out.OTP.Duration) * time.Second},
		MFA:      MFAMethod{Enabled: out.MFA.Enabled, Duration: time.Duration(out.MFA.Duration) * time.Second},
		OAuth2:   out.OAuth2,
	}, nil
}

// Refresh exchanges the held token for a new one with a full lifetime (PhaseFlow keeps the
// original sign-in time in it). A token the server marks as not refreshable (impersonation) comes
// back unchanged. A revoked or expired token is an *Error with status 401; the Client keeps it
// until Clear or a new sign-in.
func (c *Client) Refresh(ctx context.Context) error {
	c.auth.refreshing.Lock()
	defer c.auth.refreshing.Unlock()
	return c.refresh(ctx, c.Token())
}

// refresh sends token to auth-refresh and keeps the answer, unless the Client got another token
// meanwhile. The caller holds c.auth.refreshing.
func (c *Client) refresh(ctx context.Context, token string) error {
	var out authResponse
	err := c.send(ctx, request{method: "POST", path: collectionPath(c.tokenCollection(), "auth-refresh"),
		out: &out, auth: true, token: token})
	if err != nil {
		return err
	}
	if out.Token == "" {
		return errors.New("failed to refresh: the answer holds no token")
	}
	c.replaceToken(token, out.Token)
	return nil
}

// refreshIfNeeded refreshes the held token when it is refreshable and expires within the
// threshold. An expired token is not refreshed (the server would refuse); the call goes ahead
// and the server answers it.
func (c *Client) refreshIfNeeded(ctx context.Context) error {
	if c.refreshThreshold <= 0 || !c.needsRefresh(c.Token()) {
		return nil
	}
	c.auth.refreshing.Lock()
	defer c.auth.refreshing.Unlock()
	token := c.Token()
	if !c.needsRefresh(token) { // another call refreshed it while this one waited
		return nil
	}
	if err := c.refresh(ctx, token); err != nil {
		return fmt.Errorf("failed to refresh the token: %w", err)
	}
	return nil
}

func (c *Client) needsRefresh(token string) bool {
	cl, ok := parseClaims(token)
	if !ok || !cl.Refreshable {
		return false
	}
	left := time.Until(cl.Expiry)
	return left > 0 && left <= c.refreshThreshold
}

// claims are the parts of a PocketBase token the Client reads.
type claims struct {
	Expiry      time.Time
	Refreshable bool
}

// parseClaims decodes a JWT's payload without verifying it: the server verifies tokens, the
// Client only reads when to refresh.
func parseClaims(token string) (claims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims{}, false
	}
	var payload struct {
		Exp         float64 `json:"exp"`
		Refreshable bool    `json:"refreshable"`
	}
	if err := json.Unmarshal(raw, &payload); err != nil || payload.Exp <= 0 {
		return claims{}, false
	}
	sec, frac := math.Modf(payload.Exp)
	return claims{Expiry: time.Unix(int64(sec), int64(frac*1e9)), Refreshable: payload.Refreshable}, true
}

// Impersonate returns a new Client, with the same settings, holding a token for the account
// userID of the Client's collection. The Client must hold a superuser token (AuthSuperuser).
// The token is valid for duration, rounded up to whole seconds (zero means the collection's
// token lifetime), and is not refreshable, so the new Client never refreshes it.
func (c *Client) Impersonate(ctx context.Context, userID string, duration time.Duration) (*Client, error) {
	if duration < 0 {
		return nil, fmt.Errorf("invalid impersonation duration %v: expected zero or more", duration)
	}
	if userID == "" {
		return nil, errors.New("invalid user id: expected a record id")
	}
	seconds := int64(math.Ceil(duration.Seconds()))
	var out authResponse
	err := c.send(ctx, request{method: "POST", path: collectionPath(c.collection, "impersonate/"+url.PathEscape(userID)),
		body: map[string]any{"duration": seconds}, out: &out, auth: true, refresh: true})
	if err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, errors.New("failed to impersonate: the answer holds no token")
	}
	imp := *c
	imp.auth = &authState{token: out.Token, collection: c.collection}
	return &imp, nil
}

// Logout ends this session on the server (POST /api/user/logout): its token stops working at
// once. The token is always dropped from memory, even when the server call fails; the error is
// returned (a session the server had already ended answers 401).
func (c *Client) Logout(ctx context.Context) error {
	defer c.Clear()
	return c.send(ctx, request{method: "POST", path: "/api/user/logout", auth: true})
}

// LogoutAll ends every session of the account (POST /api/user/logout-all): all its tokens,
// the held one included, stop working. On success the token is dropped from memory; on failure
// it is kept, so the call can be retried.
func (c *Client) LogoutAll(ctx context.Context) error {
	token := c.Token()
	if err := c.send(ctx, request{method: "POST", path: "/api/user/logout-all", auth: true, token: token}); err != nil {
		return err
	}
	c.replaceToken(token, "")
	return nil
}
