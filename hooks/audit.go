package hooks

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/config"
	"phaseflow/migrations"
)

// AuthEvent is one row of the sign-in audit. It never holds a password, code or token.
type AuthEvent struct {
	Method       string
	Outcome      string
	Reason       string
	UserID       string
	Collection   string
	Identity     string
	Actor        string
	SecondFactor bool
	IP           string
	UserAgent    string
}

// Request-store keys the auth hooks use to pass details to the audit middleware.
const (
	auditUserKey     = "phaseflow.audit.user"
	auditIdentityKey = "phaseflow.audit.identity"
	auditReasonKey   = "phaseflow.audit.reason"
)

// AuditMiddlewareId is the id of the router middleware that audits PocketBase's auth endpoints.
const AuditMiddlewareId = "phaseflowAuthAudit"

// NewAuthEvent returns an event with the client's IP and user agent filled in.
func NewAuthEvent(e *core.RequestEvent, method, outcome, reason string) AuthEvent {
	return AuthEvent{
		Method:    method,
		Outcome:   outcome,
		Reason:    reason,
		IP:        e.RealIP(),
		UserAgent: e.Request.UserAgent(),
	}
}

// RecordAuthEvent writes ev to auth_events.
func RecordAuthEvent(app core.App, ev AuthEvent) error {
	col, err := app.FindCachedCollectionByNameOrId(migrations.AuthEvents)
	if err != nil {
		return err
	}
	r := core.NewRecord(col)
	r.Set(migrations.EventMethod, ev.Method)
	r.Set(migrations.EventOutcome, ev.Outcome)
	r.Set(migrations.EventReason, truncate(ev.Reason, 500))
	r.Set(migrations.EventCollection, ev.Collection)
	if ev.Collection == "" || ev.Collection == migrations.Users {
		r.Set(migrations.EventUser, ev.UserID)
	} else {
		// Superusers are not in the users collection; keep their id in the actor column.
		r.Set(migrations.EventActor, ev.UserID)
	}
	if ev.Actor != "" {
		r.Set(migrations.EventActor, ev.Actor)
	}
	r.Set(migrations.EventIdentity, truncate(ev.Identity, 255))
	r.Set(migrations.EventSecondFactor, ev.SecondFactor)
	r.Set(migrations.EventIP, truncate(ev.IP, 64))
	r.Set(migrations.EventUserAgent, truncate(ev.UserAgent, 500))
	return app.Save(r)
}

// DeleteOldAuthEvents deletes auth_events rows older than days and reports how many it removed.
func DeleteOldAuthEvents(app core.App, days int, now time.Time) (int64, error) {
	cutoff := now.UTC().AddDate(0, 0, -days).Format("2006-01-02 15:04:05.000Z")
	res, err := app.DB().Delete(migrations.AuthEvents, dbx.NewExp("[[created]] < {:cutoff}", dbx.Params{"cutoff": cutoff})).Execute()
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// auditedAction maps a PocketBase auth endpoint to an audit method.
var auditedAction = map[string]string{
	"auth-with-password": migrations.MethodPassword,
	"request-otp":        migrations.MethodOTPRequest,
	"auth-with-otp":      migrations.MethodOTP,
	"auth-with-oauth2":   migrations.MethodOAuth2,
	"auth-refresh":       migrations.MethodRefresh,
	"impersonate":        migrations.MethodImpersonate,
}

// classifyAuthRequest reports the audit method, the collection and, for impersonation, the
// target record id of a request to one of PocketBase's auth endpoints.
func classifyAuthRequest(r *http.Request) (method, collection, target string, ok bool) {
	if r.Method != http.MethodPost {
		return "", "", "", false
	}
	rest, found := strings.CutPrefix(r.URL.Path, "/api/collections/")
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2:
		method, ok = auditedAction[parts[1]]
	case len(parts) == 3 && parts[1] == "impersonate":
		method, ok, target = migrations.MethodImpersonate, true, parts[2]
	}
	if !ok || method == migrations.MethodImpersonate && target == "" {
		return "", "", "", false
	}
	return method, parts[0], target, true
}

// auditThrottle is the window in which repeated rate-limited attempts (and refused cron calls)
// from one IP are recorded once: a flood must not grow the audit table without bound.
const auditThrottle = time.Minute

// recentlyAudited reports whether a row with the same method, outcome and IP was written within
// auditThrottle.
func recentlyAudited(app core.App, ev AuthEvent) bool {
	since := time.Now().UTC().Add(-auditThrottle).Format("2006-01-02 15:04:05.000Z")
	n, err := app.CountRecords(migrations.AuthEvents, dbx.HashExp{
		migrations.EventMethod: ev.Method, migrations.EventOutcome: ev.Outcome, migrations.EventIP: ev.IP,
	}, dbx.NewExp("[[created]] >= {:since}", dbx.Params{"since": since}))
	return err == nil && n > 0
}

// RecordThrottledAuthEvent writes ev unless an equal one from the same IP was written within the
// last minute; use it for events an anonymous client can trigger at will.
func RecordThrottledAuthEvent(app core.App, ev AuthEvent) error {
	if recentlyAudited(app, ev) {
		return nil
	}
	return RecordAuthEvent(app, ev)
}

func bindAudit(app core.App, cfg config.Config) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id: AuditMiddlewareId,
			// After the auth token is loaded, before rate limiting, so 429s are audited too.
			Priority: apis.DefaultRateLimitMiddlewarePriority - 1,
			Func:     auditAuthRequest,
		})
		return se.Next()
	})

	// The auth hooks hand the audit what only they know: the account and the named identity.
	app.OnRecordAuthWithPasswordRequest().BindFunc(func(e *core.RecordAuthWithPasswordRequestEvent) error {
		e.Set(auditIdentityKey, e.Identity)
		if e.Record == nil {
			e.Set(auditReasonKey, "No account for this identity.")
			return e.Next()
		}
		e.Set(auditUserKey, e.Record.Id)
		err := e.Next()
		var apiErr *router.ApiError
		if err != nil && errors.As(err, &apiErr) && apiErr.Message == "Failed to authenticate." {
			e.Set(auditReasonKey, "Wrong password.")
		}
		return err
	})
	app.OnRecordRequestOTPRequest().BindFunc(func(e *core.RecordCreateOTPRequestEvent) error {
		if info, err := e.RequestInfo(); err == nil {
			email, _ := info.Body["email"].(string)
			e.Set(auditIdentityKey, email)
		}
		if e.Record == nil {
			e.Set(auditReasonKey, "No account for this email; a decoy code id was returned.")
		} else {
			e.Set(auditUserKey, e.Record.Id)
		}
		return e.Next()
	})
	app.OnRecordAuthWithOTPRequest().BindFunc(func(e *core.RecordAuthWithOTPRequestEvent) error {
		if e.Record != nil {
			e.Set(auditUserKey, e.Record.Id)
			e.Set(auditIdentityKey, e.Record.Email())
		}
		return e.Next()
	})
	app.OnRecordAuthWithOAuth2Request().BindFunc(func(e *core.RecordAuthWithOAuth2RequestEvent) error {
		if e.OAuth2User != nil {
			e.Set(auditIdentityKey, e.OAuth2User.Email)
		}
		if e.Record != nil {
			e.Set(auditUserKey, e.Record.Id)
		}
		return e.Next()
	})
	app.OnRecordAuthRequest().BindFunc(func(e *core.RecordAuthRequestEvent) error {
		e.Set(auditUserKey, e.Record.Id)
		return e.Next()
	})
}

// auditAuthRequest is the router middleware that writes one auth_events row per request to an
// auth endpoint, whatever its outcome.
func auditAuthRequest(e *core.RequestEvent) error {
	method, collection, target, ok := classifyAuthRequest(e.Request)
	if !ok {
		return e.Next()
	}
	err := e.Next()

	ev := NewAuthEvent(e, method, migrations.OutcomeSuccess, "")
	ev.Collection = collection
	if col, err := e.App.FindCachedCollectionByNameOrId(collection); err == nil {
		ev.Collection = col.Name // the path may name the collection by id
	}
	ev.UserID, _ = e.Get(auditUserKey).(string)
	ev.Identity = auditIdentity(e)
	switch method {
	case migrations.MethodRefresh:
		if ev.UserID == "" && e.Auth != nil {
			ev.UserID = e.Auth.Id
		}
	case migrations.MethodImpersonate:
		ev.UserID = target
		if _, err := e.App.FindRecordById(ev.Collection, target); err != nil {
			// The relation cannot point at a record that does not exist; keep the id as text.
			ev.UserID, ev.Identity = "", "record "+truncate(target, 100)
		}
		if e.Auth != nil {
			ev.Actor = e.Auth.Id
		}
	}
	if info, infoErr := e.RequestInfo(); infoErr == nil {
		mfaID, _ := info.Body["mfaId"].(string)
		ev.SecondFactor = mfaID != "" || info.Query["mfaId"] != ""
	}

	var apiErr *router.ApiError
	switch {
	case err == nil:
	case errors.Is(err, apis.ErrMFA):
		ev.Outcome = migrations.OutcomeMFARequired
		ev.Reason = "A second factor is required."
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
		ev.Outcome = migrations.OutcomeRateLimited
		ev.Reason = "Too many attempts from this client."
	default:
		ev.Outcome = migrations.OutcomeFailure
		if errors.As(err, &apiErr) {
			ev.Reason = apiErr.Message
		}
	}
	if reason, ok := e.Get(auditReasonKey).(string); ok && reason != "" {
		ev.Reason = reason
		if method == migrations.MethodOTPRequest {
			ev.Outcome = migrations.OutcomeFailure
		}
	}
	if ev.Reason == "" && ev.Outcome == migrations.OutcomeFailure {
		ev.Reason = "The request failed."
	}
	record := RecordAuthEvent
	if ev.Outcome == migrations.OutcomeRateLimited {
		record = RecordThrottledAuthEvent
	}
	if auditErr := record(e.App, ev); auditErr != nil {
		e.App.Logger().Error("Failed to record an auth event", "method", method, "error", auditErr.Error())
	}
	return err
}

// auditIdentity returns the identity a sign-in named, only when it looks like an email address:
// a password typed into the email field must not be stored.
func auditIdentity(e *core.RequestEvent) string {
	id, _ := e.Get(auditIdentityKey).(string)
	if a, err := mail.ParseAddress(id); err != nil || a.Address != id {
		return ""
	}
	return id
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
