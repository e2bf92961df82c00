package users

import (
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

// NewSessionToken returns a refreshable auth token for r that carries authTime.
//
// Mirrors core/record_tokens.go newAuthToken in PocketBase v0.40.4 (same claims, signing key and
// duration), so PocketBase accepts the token everywhere; re-check it on a PocketBase upgrade.
func NewSessionToken(r *core.Record, authTime int64) (string, error) {
	col := r.Collection()
	return security.NewJWT(jwt.MapClaims{
		core.TokenClaimType:         core.TokenTypeAuth,
		core.TokenClaimId:           r.Id,
		core.TokenClaimCollectionId: col.Id,
		core.TokenClaimRefreshable:  true,
		ClaimAuthTime:               authTime,
	}, r.TokenKey()+col.AuthToken.Secret, col.AuthToken.DurationTime())
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

// IssueSessionToken re-issues sign-in and refresh tokens with ClaimAuthTime: a sign-in starts
// the clock, a refresh keeps the time of the token it was given. Impersonation and other static
// tokens keep no sign-in time. It is an OnRecordAuthRequest handler.
func IssueSessionToken(e *core.RecordAuthRequestEvent) error {
	claims, err := security.ParseUnverifiedJWT(e.Token)
	if err != nil || !cast.ToBool(claims[core.TokenClaimRefreshable]) {
		return e.Next()
	}
	var authTime int64
	switch {
	case e.AuthMethod != "":
		authTime = time.Now().Unix()
	case e.Auth != nil && e.Auth.Id == e.Record.Id:
		// A refresh: the incoming token was verified by PocketBase's auth middleware.
		authTime, _ = AuthTime(RequestToken(e.RequestEvent))
	}
	if authTime > 0 {
		token, err := NewSessionToken(e.Record, authTime)
		if err != nil {
			return e.InternalServerError("Failed to create the auth token.", err)
		}
		e.Token = token
	}
	return e.Next()
}
