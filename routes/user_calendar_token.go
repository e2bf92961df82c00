package routes

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/users"
)

// feedTokenBytes is the feed token's entropy: 256 bits from crypto/rand.
const feedTokenBytes = 32

// FeedToken is the POST /api/user/calendar-token response: the full feed URL, shown once.
type FeedToken struct {
	URL string `json:"url"`
}

// FeedState is the GET /api/user/calendar-token response.
type FeedState struct {
	Active bool `json:"active"`
}

func bindUserCalendarToken(g *router.RouterGroup[*core.RequestEvent], cfg config.Config) {
	g.GET("/calendar-token", feedTokenView)
	g.POST("/calendar-token", func(e *core.RequestEvent) error { return feedTokenCreate(e, cfg) }).
		Bind(apis.BodyLimit(maxSmallBody))
	g.DELETE("/calendar-token", feedTokenDelete)
}

// newFeedToken returns a random URL-safe token and the hash that is stored in its place.
func newFeedToken() (token, hash string, err error) {
	b := make([]byte, feedTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashFeedToken(token), nil
}

func hashFeedToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FeedURL builds the public feed URL from APP_URL.
func FeedURL(appURL, userID, token string) string {
	return appURL + feedPathPrefix + url.PathEscape(userID) + "/" + token + ".ics"
}

func feedTokenView(e *core.RequestEvent) error {
	return e.JSON(http.StatusOK, FeedState{Active: e.Auth.GetString(users.FieldCalendarTokenHash) != ""})
}

// feedTokenCreate makes (or replaces) the user's feed token. Only its hash is stored; the URL is
// returned once. The feed is a long-lived credential to health data, so it needs proof of
// presence: a sign-in within users.RecentSignIn, or the password in {"password": "…"} (a wrong one
// counts towards the account's lock).
func feedTokenCreate(e *core.RequestEvent, cfg config.Config) error {
	// An unverified account may belong to someone who pre-registered another person's email;
	// a feed would outlive the owner's takeover of the account.
	if !e.Auth.Verified() {
		return e.ForbiddenError("Verify your email address before creating a calendar feed.", nil)
	}
	if err := requirePresence(e, limitsOf(cfg), audit.MethodCalendarToken); err != nil {
		return err
	}
	token, hash, err := newFeedToken()
	if err != nil {
		return e.InternalServerError("", err)
	}
	record, err := users.Update(e.App, e.Auth, func(fresh *core.Record) error {
		fresh.Set(users.FieldCalendarTokenHash, hash)
		return nil
	})
	if err != nil {
		return writeError(e, "Failed to create the calendar feed.", err)
	}
	audit.Request(e, audit.MethodCalendarToken, audit.OutcomeSuccess, "Calendar feed token created.")
	return e.JSON(http.StatusOK, FeedToken{URL: FeedURL(cfg.AppURL, record.Id, token)})
}

func feedTokenDelete(e *core.RequestEvent) error {
	_, err := users.Update(e.App, e.Auth, func(fresh *core.Record) error {
		fresh.Set(users.FieldCalendarTokenHash, "")
		return nil
	})
	if err != nil {
		return writeError(e, "Failed to revoke the calendar feed.", err)
	}
	audit.Request(e, audit.MethodCalendarToken, audit.OutcomeSuccess, "Calendar feed token revoked.")
	return e.NoContent(http.StatusNoContent)
}
