package audit

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// MiddlewareId is the id of the router middleware that audits PocketBase's auth endpoints.
const MiddlewareId = "phaseflowAuthAudit"

// actions maps a PocketBase auth endpoint to an audit method.
var actions = map[string]string{
	"auth-with-password": MethodPassword,
	"request-otp":        MethodOTPRequest,
	"auth-with-otp":      MethodOTP,
	"auth-with-oauth2":   MethodOAuth2,
	"auth-refresh":       MethodRefresh,
	"impersonate":        MethodImpersonate,
}

// classify reports the audit method, the collection and, for impersonation, the target record
// id of a request to one of PocketBase's auth endpoints.
func classify(r *http.Request) (method, collection, target string, ok bool) {
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
		method, ok = actions[parts[1]]
	case len(parts) == 3 && parts[1] == "impersonate":
		method, ok, target = MethodImpersonate, true, parts[2]
	}
	if !ok || method == MethodImpersonate && target == "" {
		return "", "", "", false
	}
	return method, parts[0], target, true
}

// Middleware writes one auth_events row per request to an auth endpoint, whatever its outcome
// (success, failure, rate limited, second factor required). It must run after the auth token is
// loaded and before rate limiting, so 429s are audited too.
func Middleware(e *core.RequestEvent) error {
	method, collection, target, ok := classify(e.Request)
	if !ok {
		return e.Next()
	}
	err := e.Next()

	ev := NewEvent(e, method, OutcomeSuccess, "")
	ev.Collection = collection
	if col, err := e.App.FindCachedCollectionByNameOrId(collection); err == nil {
		ev.Collection = col.Name // the path may name the collection by id
	}
	ev.UserID, _ = e.Get(userKey).(string)
	ev.Identity = identity(e)
	switch method {
	case MethodRefresh:
		if ev.UserID == "" && e.Auth != nil {
			ev.UserID = e.Auth.Id
		}
	case MethodImpersonate:
		ev.UserID = target
		if _, err := e.App.FindRecordById(ev.Collection, target); err != nil || !e.HasSuperuserAuth() {
			// The relation cannot point at a record that does not exist, and an attempt by
			// someone who is not a superuser must not land in the account's activity list.
			ev.UserID, ev.Identity = "", "record "+Truncate(target, 100)
		}
		if e.Auth != nil {
			ev.Actor = e.Auth.Id
		}
	}
	// A second factor counts only when PocketBase used one (see CaptureAuth), not when the body
	// merely names an mfaId.
	ev.SecondFactor, _ = e.Get(secondFactorKey).(bool)

	var apiErr *router.ApiError
	switch {
	case err == nil:
	case errors.Is(err, apis.ErrMFA):
		ev.Outcome = OutcomeMFARequired
		ev.Reason = "A second factor is required."
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests && e.Get(lockedKey) == true:
		ev.Outcome = OutcomeLocked
		ev.Reason = "The account is locked after too many failed sign-ins."
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
		ev.Outcome = OutcomeRateLimited
		ev.Reason = "Too many attempts from this client."
	default:
		ev.Outcome = OutcomeFailure
		if errors.As(err, &apiErr) {
			ev.Reason = apiErr.Message
		}
	}
	if reason, ok := e.Get(reasonKey).(string); ok && reason != "" {
		ev.Reason = reason
		if method == MethodOTPRequest {
			ev.Outcome = OutcomeFailure
		}
	}
	if ev.Reason == "" && ev.Outcome == OutcomeFailure {
		ev.Reason = "The request failed."
	}
	write := Write
	// Refusals anyone can cause at will, without even a credential to try, are recorded once per
	// address and minute: rate-limited and locked attempts, and refresh or impersonation without
	// a valid token. (Failed sign-ins are bounded by the client's budget and each is recorded.)
	anonymous := e.Auth == nil && (method == MethodRefresh || method == MethodImpersonate)
	if ev.Outcome == OutcomeRateLimited || ev.Outcome == OutcomeLocked || ev.Outcome != OutcomeSuccess && anonymous {
		write = WriteThrottled
	}
	if auditErr := write(e.App, ev); auditErr != nil {
		e.App.Logger().Error("Failed to record an auth event", "method", method, "error", auditErr.Error())
	}
	return err
}
