package routes

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"phaseflow/config"
	"phaseflow/cycle"
	"phaseflow/hooks"
	"phaseflow/migrations"
)

// feedTokenBytes is the feed token's entropy: 256 bits from crypto/rand.
const feedTokenBytes = 32

// feedPathPrefix is where feeds are served. Calendar apps cannot send headers, so the secret
// travels in the path; it is redacted from the request before PocketBase logs the URL.
const feedPathPrefix = "/api/calendar/"

var (
	feedTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	userIDPattern    = regexp.MustCompile(`^[a-z0-9]{15}$`)
	// dummyHash stands in for a missing stored hash, so every request does the same work.
	dummyHash = strings.Repeat("0", sha256.Size*2)
)

// FeedToken is the POST /api/user/calendar-token response: the full feed URL, shown once.
type FeedToken struct {
	URL string `json:"url"`
}

// FeedState is the GET /api/user/calendar-token response.
type FeedState struct {
	Active bool `json:"active"`
}

func bindCalendarFeed(se *core.ServeEvent, cfg config.Config) {
	g := se.Router.Group("/api/user/calendar-token")
	g.BindFunc(requireUser)
	g.GET("", feedTokenView)
	g.POST("", func(e *core.RequestEvent) error { return feedTokenCreate(e, cfg) })
	g.DELETE("", feedTokenDelete)

	se.Router.GET(feedPathPrefix+"{userId}/{file}", func(e *core.RequestEvent) error { return feedServe(e, cfg) })
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
	return e.JSON(http.StatusOK, FeedState{Active: e.Auth.GetString(migrations.FieldCalendarTokenHash) != ""})
}

// feedTokenCreate makes (or replaces) the user's feed token. Only its hash is stored; the URL is
// returned once.
func feedTokenCreate(e *core.RequestEvent, cfg config.Config) error {
	token, hash, err := newFeedToken()
	if err != nil {
		return e.InternalServerError("", err)
	}
	// An unverified account may belong to someone who pre-registered another person's email;
	// a feed would outlive the owner's takeover of the account.
	if !e.Auth.Verified() {
		return e.ForbiddenError("Verify your email address before creating a calendar feed.", nil)
	}
	record, err := updateUser(e, "Failed to create the calendar feed.", func(fresh *core.Record) error {
		fresh.Set(migrations.FieldCalendarTokenHash, hash)
		return nil
	})
	if err != nil {
		return err
	}
	audit(e, migrations.MethodFeedToken, migrations.OutcomeSuccess, "Calendar feed token created.")
	e.Response.Header().Set("Cache-Control", "no-store")
	return e.JSON(http.StatusOK, FeedToken{URL: FeedURL(cfg.AppURL, record.Id, token)})
}

func feedTokenDelete(e *core.RequestEvent) error {
	_, err := updateUser(e, "Failed to revoke the calendar feed.", func(fresh *core.Record) error {
		fresh.Set(migrations.FieldCalendarTokenHash, "")
		return nil
	})
	if err != nil {
		return err
	}
	audit(e, migrations.MethodFeedToken, migrations.OutcomeSuccess, "Calendar feed token revoked.")
	return e.NoContent(http.StatusNoContent)
}

// ParseFeedPath splits the {file} segment of a feed URL into its token. ok is false for anything
// that is not exactly "<43 URL-safe characters>.ics".
func ParseFeedPath(userID, file string) (token string, ok bool) {
	token, hasSuffix := strings.CutSuffix(file, ".ics")
	return token, hasSuffix && feedTokenPattern.MatchString(token) && userIDPattern.MatchString(userID)
}

// feedServe answers GET /api/calendar/{userId}/{token}.ics. Every failure (malformed path,
// unknown user, wrong or revoked token) is the same 404 after the same work: a user lookup, a
// hash and a constant-time comparison.
func feedServe(e *core.RequestEvent, cfg config.Config) error {
	userID, file := e.Request.PathValue("userId"), e.Request.PathValue("file")

	token, wellFormed := ParseFeedPath(userID, file)
	lookupID := userID
	if !wellFormed {
		lookupID = "" // still query, so malformed paths take as long as wrong tokens
	}
	stored := dummyHash
	record, err := e.App.FindRecordById(migrations.Users, lookupID)
	if err == nil && record.GetString(migrations.FieldCalendarTokenHash) != "" {
		stored = record.GetString(migrations.FieldCalendarTokenHash)
	}
	match := subtle.ConstantTimeCompare([]byte(hashFeedToken(token)), []byte(stored)) == 1
	if !wellFormed || err != nil || stored == dummyHash || !match {
		return e.NotFoundError(feedNotFound, nil)
	}

	profile := hooks.ProfileFromRecord(record)
	opt := cycle.FeedOptions{
		UserID: record.Id,
		Now:    time.Now(),
		Stamp:  record.GetDateTime("updated").Time(),
		Domain: feedDomain(cfg.AppURL),
	}
	// The tag comes from the feed's inputs, so a revalidation is answered without rendering.
	etag, err := cycle.FeedETag(profile, opt)
	if err != nil {
		return e.InternalServerError("", err)
	}
	h := e.Response.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
	if etagMatches(e.Request.Header.Get("If-None-Match"), etag) {
		return e.NoContent(http.StatusNotModified)
	}
	body, err := cycle.RenderICS(profile, opt)
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.Blob(http.StatusOK, "text/calendar; charset=utf-8", body)
}

// etagMatches implements If-None-Match (RFC 9110 §13.1.2): "*" or any listed tag, weak or not.
func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" || part == etag {
			return true
		}
	}
	return false
}

func feedDomain(appURL string) string {
	u, err := url.Parse(appURL)
	if err != nil || u.Hostname() == "" {
		return cycle.DefaultDomain
	}
	return u.Hostname()
}

// feedNotFound is the one answer to every feed failure.
const feedNotFound = "Calendar feed not found."

// bindFeedRedaction keeps feed tokens out of PocketBase's request log, which stores the URL. It
// runs just inside the activity logger and rewrites the URL after everything else, so requests
// refused early (rate limit, panic, 404 fallback) are covered too.
func bindFeedRedaction(se *core.ServeEvent) {
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id:       "phaseflowFeedRedaction",
		Priority: apis.DefaultActivityLoggerMiddlewarePriority + 1,
		Func: func(e *core.RequestEvent) error {
			err := e.Next()
			if rest, ok := strings.CutPrefix(e.Request.URL.Path, feedPathPrefix); ok {
				userID, _, _ := strings.Cut(rest, "/")
				if !userIDPattern.MatchString(userID) {
					userID = "-"
				}
				e.Request.URL.Path = feedPathPrefix + userID + "/redacted"
				e.Request.URL.RawPath = ""
				e.Request.URL.RawQuery = ""
			}
			return err
		},
	})
}
