package hooks

import (
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/spf13/cast"

	"phaseflow/migrations"
)

// ClaimAuthTime is the token claim with the Unix time of the sign-in that started the session.
// Refreshing keeps it, so a route can ask for a recent sign-in (proof of presence) even though
// the front end refreshes the token on every page load.
const ClaimAuthTime = "authTime"

// bindAuthTime re-issues sign-in and refresh tokens with ClaimAuthTime. The token is otherwise
// identical to PocketBase's own (same claims, key and duration), so PocketBase accepts it.
func bindAuthTime(app core.App) {
	app.OnRecordAuthRequest(migrations.Users).BindFunc(func(e *core.RecordAuthRequestEvent) error {
		claims, err := security.ParseUnverifiedJWT(e.Token)
		if err != nil || !cast.ToBool(claims[core.TokenClaimRefreshable]) {
			return e.Next() // impersonation and other static tokens keep no sign-in time
		}
		var authTime int64
		switch {
		case e.AuthMethod != "":
			authTime = time.Now().Unix()
		case e.Auth != nil && e.Auth.Id == e.Record.Id:
			// A refresh: the incoming token was verified by PocketBase's auth middleware.
			authTime, _ = SessionAuthTime(RequestToken(e.RequestEvent))
		}
		if authTime > 0 {
			token, err := newSessionToken(e.Record, authTime)
			if err != nil {
				return e.InternalServerError("Failed to create auth token.", err)
			}
			e.Token = token
		}
		return e.Next()
	})
}

func newSessionToken(r *core.Record, authTime int64) (string, error) {
	col := r.Collection()
	return security.NewJWT(jwt.MapClaims{
		core.TokenClaimType:         core.TokenTypeAuth,
		core.TokenClaimId:           r.Id,
		core.TokenClaimCollectionId: col.Id,
		core.TokenClaimRefreshable:  true,
		ClaimAuthTime:               authTime,
	}, r.TokenKey()+col.AuthToken.Secret, col.AuthToken.DurationTime())
}

// RequestToken returns the token of the Authorization header (with or without "Bearer ").
func RequestToken(e *core.RequestEvent) string {
	h := e.Request.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return h[7:]
	}
	return h
}

// SessionAuthTime reads ClaimAuthTime from a token the caller has already verified.
func SessionAuthTime(token string) (int64, bool) {
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		return 0, false
	}
	t := cast.ToInt64(claims[ClaimAuthTime])
	return t, t > 0
}
