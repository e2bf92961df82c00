package routes

import (
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"phaseflow/audit"
	"phaseflow/backup"
	"phaseflow/config"
	"phaseflow/metrics"
	"phaseflow/sessions"
	"phaseflow/throttle"
	"phaseflow/users"
)

// PhaseFlow's global middlewares, placed among PocketBase's own (apis/base.go NewRouter, lower
// runs first): CORS -1041 (bound by apis.Serve), activityLogger -1040, panicRecover -1030,
// loadAuthToken -1020, superuserIPsWhitelist -1015, securityHeaders -1010, rateLimit -1000,
// bodyLimit -990.
const (
	// Outside everything, PocketBase's activity logger included: request durations cover the
	// whole request, and the route pattern is known (the mux matched before any middleware).
	metricsPriority = apis.DefaultActivityLoggerMiddlewarePriority - 10
	// Before PocketBase's CORS middleware, which would allow every origin.
	corsPriority = apis.DefaultCorsMiddlewarePriority - 1
	// Just inside the activity logger, so the redaction also covers requests refused early (rate
	// limit, panic, 404 fallback) before the logger records the URL.
	redactionPriority = apis.DefaultActivityLoggerMiddlewarePriority + 1
	// Before anything that can answer on its own (panic recovery, token loading, the superuser IP
	// whitelist, rate limits), so every answer over https carries HSTS.
	hstsPriority = apis.DefaultPanicRecoverMiddlewarePriority - 1
	// Just before PocketBase loads the token: GET /api/user authenticates from the account cache
	// (users.LoadCachedAuth), and PocketBase's loader then does nothing.
	cachedAuthPriority = apis.DefaultLoadAuthTokenMiddlewarePriority - 1
	// Right after the token is loaded, before anything reads e.Auth: a token whose session ended
	// is no token.
	sessionPriority = apis.DefaultLoadAuthTokenMiddlewarePriority + 1
	// Then the OAuth2 endpoint must not see the caller's token.
	noLinkingPriority = apis.DefaultLoadAuthTokenMiddlewarePriority + 2
	// Then a sign-up through the record API is refused with a sentence (superusers may create).
	recordSignUpPriority = apis.DefaultLoadAuthTokenMiddlewarePriority + 3
	// After the token is loaded: PocketBase's in-place backup restore is refused to a superuser
	// with the reason (phaseflow/backup).
	backupRestorePriority = apis.DefaultLoadAuthTokenMiddlewarePriority + 4
	// After the token is loaded, before rate limiting, so 429s are audited too.
	auditPriority = apis.DefaultRateLimitMiddlewarePriority - 1
	// With PocketBase's security headers: every answer, refusals included.
	headersPriority = apis.DefaultSecurityHeadersMiddlewarePriority + 1
	// After the body limit (it reads the body) and inside the audit, which records its refusals.
	throttlePriority = apis.DefaultBodyLimitMiddlewarePriority + 1
	// Within the client's code budget.
	emailChangePriority = throttlePriority + 1
)

// bindMiddlewares binds every global middleware PhaseFlow adds, in priority order.
func bindMiddlewares(se *core.ServeEvent, cfg config.Config, lt sessions.Lifetimes) {
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: metrics.MiddlewareId, Priority: metricsPriority, Func: metrics.Middleware,
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowCORS", Priority: corsPriority, Func: corsForAppURL(cfg),
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowRedaction", Priority: redactionPriority, Func: redactSecrets,
	})
	if f := hsts(cfg.AppURL); f != nil {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{Id: "phaseflowHSTS", Priority: hstsPriority, Func: f})
	}
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowCachedAuth", Priority: cachedAuthPriority, Func: users.LoadCachedAuth,
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowSessions", Priority: sessionPriority, Func: sessions.Middleware(lt),
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowOAuth2NoLinking", Priority: noLinkingPriority, Func: users.IgnoreAuthOnOAuth2,
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowRecordSignUp", Priority: recordSignUpPriority, Func: refuseRecordSignUp(cfg),
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowBackupRestore", Priority: backupRestorePriority, Func: backup.RefuseRestoreRequest,
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowSecurityHeaders", Priority: headersPriority, Func: securityHeaders,
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: audit.MiddlewareId, Priority: auditPriority, Func: audit.Middleware,
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowThrottle", Priority: throttlePriority, Func: throttle.Middleware(limitsOf(cfg)),
	})
	se.Router.Bind(&hook.Handler[*core.RequestEvent]{
		Id: "phaseflowEmailChange", Priority: emailChangePriority, Func: uniformEmailChange(cfg),
	})
}

// msgSessionOver answers a token whose session was ended (signed out, expired, revoked).
const msgSessionOver = "Your session has ended; sign in again."

// requireUser allows only a signed-in user (users collection) through. The token comes from the
// Authorization header alone: PocketBase does not read cookies, so a cookie cannot drive these
// routes (no CSRF surface).
func requireUser(e *core.RequestEvent) error {
	if e.Auth == nil && sessions.Ended(e) {
		return e.UnauthorizedError(msgSessionOver, nil)
	}
	if e.Auth == nil {
		return e.UnauthorizedError("Sign in first: this endpoint needs a valid user token in the Authorization header.", nil)
	}
	if e.Auth.Collection().Name != users.Collection {
		return e.ForbiddenError("Only user accounts have a profile; superuser tokens are not accepted here.", nil)
	}
	// Private data must not outlive sign-out in the browser's cache.
	e.Response.Header().Set("Cache-Control", "no-store")
	return e.Next()
}

// secretQueryPages carry a secret in their query: the OAuth2 callback's code and state, and the
// tokens of the mailed links.
var secretQueryPages = map[string]bool{
	config.OAuth2CallbackPath: true, "/reset-password": true, "/verify-email": true, "/confirm-email-change": true,
}

// redactSecrets keeps secrets in URLs (feed tokens, the OAuth2 code and state, mailed tokens)
// out of PocketBase's request log, which stores the URL: it rewrites the URL after everything
// else has run.
func redactSecrets(e *core.RequestEvent) error {
	err := e.Next()
	if secretQueryPages[strings.TrimSuffix(e.Request.URL.Path, "/")] && e.Request.URL.RawQuery != "" {
		e.Request.URL.RawQuery = "redacted"
	}
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
}
