package users

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/spf13/cast"
)

// ClaimAuthTime is the token claim with the Unix time of the sign-in that started the session.
// Refreshing keeps it, so a route can ask for a recent sign-in (proof of presence) even though
// the front end refreshes the token on every page load.
const ClaimAuthTime = "authTime"

// RecentSignIn is how recent a sign-in must be to count as proof of presence.
const RecentSignIn = 10 * time.Minute

// ClaimSessionID is the token claim with the id of the sessions row the token belongs to.
const ClaimSessionID = "sid"

// SessionClaims are the claims PhaseFlow adds to a users token.
type SessionClaims struct {
	// AuthTime is the Unix time of the sign-in that started the session.
	AuthTime int64
	// SessionID is the sessions row.
	SessionID string
	// Refreshable is false for impersonation tokens, as PocketBase's static tokens are.
	Refreshable bool
	// Expires is the token's exp; the collection's token duration from now when zero.
	Expires time.Time
}

// NewSessionToken returns an auth token for r with PhaseFlow's claims.
//
// Mirrors core/record_tokens.go newAuthToken in PocketBase v0.40.4 (same claims, signing key and
// algorithm), so PocketBase accepts the token everywhere; re-check it on a PocketBase upgrade.
func NewSessionToken(r *core.Record, c SessionClaims) (string, error) {
	col := r.Collection()
	ttl := col.AuthToken.DurationTime()
	if !c.Expires.IsZero() {
		ttl = time.Until(c.Expires)
	}
	claims := jwt.MapClaims{
		core.TokenClaimType:         core.TokenTypeAuth,
		core.TokenClaimId:           r.Id,
		core.TokenClaimCollectionId: col.Id,
		core.TokenClaimRefreshable:  c.Refreshable,
		ClaimSessionID:              c.SessionID,
	}
	if c.AuthTime > 0 {
		claims[ClaimAuthTime] = c.AuthTime
	}
	return security.NewJWT(claims, r.TokenKey()+col.AuthToken.Secret, ttl)
}

// SessionID reads ClaimSessionID from a token the caller has already verified. It runs on every
// request, so it decodes only the payload, into one field, instead of a whole claims map.
func SessionID(token string) string {
	_, rest, ok := strings.Cut(token, ".")
	payload, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	var claims struct {
		SessionID string `json:"sid"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return ""
	}
	return claims.SessionID
}

// Refreshable reports whether a (verified) token may be refreshed.
func Refreshable(token string) bool {
	claims, err := security.ParseUnverifiedJWT(token)
	return err == nil && cast.ToBool(claims[core.TokenClaimRefreshable])
}

// RequestToken returns the token of the Authorization header (with or without "Bearer "), as
// PocketBase's getAuthTokenFromRequest reads it.
func RequestToken(e *core.RequestEvent) string {
	h := e.Request.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return h[7:]
	}
	return h
}

// AuthTime reads ClaimAuthTime from a token the caller has already verified.
func AuthTime(token string) (int64, bool) {
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		return 0, false
	}
	t := cast.ToInt64(claims[ClaimAuthTime])
	return t, t > 0
}

// SignedInRecently reports whether the request's (verified) token comes from a sign-in within
// RecentSignIn.
func SignedInRecently(e *core.RequestEvent, now time.Time) bool {
	at, ok := AuthTime(RequestToken(e))
	return ok && now.Sub(time.Unix(at, 0)) <= RecentSignIn
}
