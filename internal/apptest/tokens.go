package apptest

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
)

// SignToken signs a refreshable auth token for r the way PocketBase does (its claims, key and
// HS256), expiring after ttl (negative: already expired), with extra claims added or replaced.
func SignToken(t testing.TB, r *core.Record, ttl time.Duration, extra map[string]any) string {
	t.Helper()
	col := r.Collection()
	claims := jwt.MapClaims{
		core.TokenClaimId:           r.Id,
		core.TokenClaimType:         core.TokenTypeAuth,
		core.TokenClaimCollectionId: col.Id,
		core.TokenClaimRefreshable:  true,
	}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := security.NewJWT(claims, r.TokenKey()+col.AuthToken.Secret, ttl)
	if err != nil {
		t.Fatalf("failed to sign a token: %v", err)
	}
	return tok
}

// Claims decodes a token's payload without verifying it.
func Claims(t testing.TB, token string) jwt.MapClaims {
	t.Helper()
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		t.Fatalf("not a JWT: %v", err)
	}
	return claims
}

// Expiry returns a token's exp claim.
func Expiry(t testing.TB, token string) time.Time {
	t.Helper()
	exp, err := Claims(t, token).GetExpirationTime()
	if err != nil || exp == nil {
		t.Fatalf("no exp claim: %v", err)
	}
	return exp.Time
}

// ForgeClaim re-encodes the token's payload with one claim changed and keeps the old signature:
// what an attacker who edits a token gets.
func ForgeClaim(t testing.TB, token, claim string, value any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("expected a JWT, got %q", token)
	}
	claims := Claims(t, token)
	claims[claim] = value
	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SigningString()
	if err != nil {
		t.Fatal(err)
	}
	return unsigned + "." + parts[2]
}

// BreakSignature changes the last characters of the token's signature, keeping it in the
// base64url alphabet.
func BreakSignature(token string) string {
	b := []byte(token)
	for i := max(len(b)-4, 0); i < len(b); i++ {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}
