package routes

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/cycle"
	"phaseflow/users"
)

// feedPathPrefix is where feeds are served. Calendar apps cannot send headers, so the secret
// travels in the path; it is redacted from the request before PocketBase logs the URL.
const feedPathPrefix = "/api/calendar/"

var (
	feedTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	userIDPattern    = regexp.MustCompile(`^[a-z0-9]{15}$`)
	// dummyHash stands in for a missing stored hash, so every request does the same work.
	dummyHash = strings.Repeat("0", sha256.Size*2)
)

// feedNotFound is the one answer to every feed failure.
const feedNotFound = "Calendar feed not found."

func bindCalendarFeed(se *core.ServeEvent, cfg config.Config) {
	se.Router.GET(feedPathPrefix+"{userId}/{file}", func(e *core.RequestEvent) error { return feedServe(e, cfg) })
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
	record, err := e.App.FindRecordById(users.Collection, lookupID)
	if err == nil && record.GetString(users.FieldCalendarTokenHash) != "" {
		stored = record.GetString(users.FieldCalendarTokenHash)
	}
	match := subtle.ConstantTimeCompare([]byte(hashFeedToken(token)), []byte(stored)) == 1
	if !wellFormed || err != nil || stored == dummyHash || !match || !feedAllowed(record) {
		return e.NotFoundError(feedNotFound, nil)
	}

	profile := users.Cycle(record)
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

// feedAllowed reports whether the account may be served its feed now: only while it is verified
// and approved. A feed is paused, not deleted, meanwhile.
func feedAllowed(r *core.Record) bool {
	return r.Verified() && r.GetBool(users.FieldApproved)
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
