package routes_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
)

// signToken signs an auth token for r, as PocketBase would, that expires after d (negative:
// already expired).
func signToken(t *testing.T, r *core.Record, d time.Duration) string {
	t.Helper()
	return signTokenWithClaims(t, r, d, nil)
}

// signTokenWithClaims is signToken with extra claims.
func signTokenWithClaims(t *testing.T, r *core.Record, d time.Duration, extra map[string]any) string {
	t.Helper()
	col := r.Collection()
	claims := jwt.MapClaims{
		core.TokenClaimId: r.Id, core.TokenClaimType: core.TokenTypeAuth,
		core.TokenClaimCollectionId: col.Id, core.TokenClaimRefreshable: true,
	}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := security.NewJWT(claims, r.TokenKey()+col.AuthToken.Secret, d)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
