// Package audit is the home of PhaseFlow's sign-in audit (the auth_events collection): the event
// and its names, the writer and the throttled writer, the retention delete, the router
// middleware that writes one row per request to an auth endpoint, and the hook handlers that
// collect the identity and account a sign-in named.
package audit

import (
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/retention"
	"phaseflow/users"
)

// Collection holds one row per sign-in attempt and security action.
const Collection = "auth_events"

// Fields of the auth_events collection.
const (
	FieldMethod       = "method"
	FieldOutcome      = "outcome"
	FieldReason       = "reason"
	FieldUser         = "user"
	FieldCollection   = "collection"
	FieldIdentity     = "identity"
	FieldActor        = "actor"
	FieldSecondFactor = "secondFactor"
	FieldIP           = "ip"
	FieldUserAgent    = "userAgent"
	FieldCreated      = "created"
)

// Methods: what was attempted. Each constant is named after the value it stores.
const (
	MethodPassword       = "password"
	MethodOTPRequest     = "otp_request"
	MethodOTP            = "otp"
	MethodOAuth2         = "oauth2"
	MethodRefresh        = "refresh"
	MethodImpersonate    = "impersonate"
	MethodLogoutAll      = "logout_all"
	MethodMFASetting     = "mfa_setting"
	MethodCalendarToken  = "calendar_token"
	MethodCron           = "cron"
	MethodOIDCUnlink     = "oidc_unlink"
	MethodLogout         = "logout"
	MethodSessionEnd     = "session_end"
	MethodLogoutOthers   = "logout_others"
	MethodAccountLock    = "account_lock"
	MethodPasswordChange = "password_change"
	MethodSignup         = "signup"
	MethodSignupRequest  = "signup_request"
	MethodEmailChange    = "email_change_request"
	// MethodUserCreate is an account created by an operator with ./app users create.
	MethodUserCreate = "user_create"
	// MethodAccountExport is a download of the account's data (GET /api/user/export).
	MethodAccountExport = "account_export"
	// MethodAccountDelete is an account's erasure. Its success row is anonymised: no user, email,
	// address or agent, so that it outlives the account (see phaseflow/account).
	MethodAccountDelete = "account_delete"
)

// Methods lists every method value, the select values of the method field.
var Methods = []string{
	MethodPassword, MethodOTPRequest, MethodOTP, MethodOAuth2, MethodRefresh, MethodImpersonate,
	MethodLogoutAll, MethodMFASetting, MethodCalendarToken, MethodCron, MethodOIDCUnlink,
	MethodLogout, MethodSessionEnd, MethodLogoutOthers,
	MethodAccountLock, MethodPasswordChange, MethodSignup, MethodSignupRequest, MethodEmailChange,
	MethodUserCreate, MethodAccountExport, MethodAccountDelete,
}

// Outcomes: how it ended.
const (
	OutcomeSuccess     = "success"
	OutcomeFailure     = "failure"
	OutcomeRateLimited = "rate_limited"
	OutcomeMFARequired = "mfa_required"
	// OutcomeLocked is an attempt refused because the account is locked after failed sign-ins.
	OutcomeLocked = "locked"
)

// Outcomes lists every outcome value, the select values of the outcome field.
var Outcomes = []string{OutcomeSuccess, OutcomeFailure, OutcomeRateLimited, OutcomeMFARequired, OutcomeLocked}

// ActorCLI is the actor of actions taken with ./app subcommands.
const ActorCLI = "cli"

// Event is one row of the audit. It never holds a password, code or token.
type Event struct {
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

// NewEvent returns an event with the client's IP and user agent filled in.
func NewEvent(e *core.RequestEvent, method, outcome, reason string) Event {
	return Event{
		Method:    method,
		Outcome:   outcome,
		Reason:    reason,
		IP:        e.RealIP(),
		UserAgent: e.Request.UserAgent(),
	}
}

// Write stores ev in auth_events.
func Write(app core.App, ev Event) error {
	col, err := app.FindCachedCollectionByNameOrId(Collection)
	if err != nil {
		return err
	}
	r := core.NewRecord(col)
	r.Set(FieldMethod, ev.Method)
	r.Set(FieldOutcome, ev.Outcome)
	r.Set(FieldReason, Truncate(ev.Reason, 500))
	r.Set(FieldCollection, ev.Collection)
	if ev.Collection == "" || ev.Collection == users.Collection {
		r.Set(FieldUser, ev.UserID)
	} else {
		// Superusers are not in the users collection; keep their id in the actor column.
		r.Set(FieldActor, ev.UserID)
	}
	if ev.Actor != "" {
		r.Set(FieldActor, ev.Actor)
	}
	r.Set(FieldIdentity, Truncate(ev.Identity, 255))
	r.Set(FieldSecondFactor, ev.SecondFactor)
	r.Set(FieldIP, Truncate(ev.IP, 64))
	r.Set(FieldUserAgent, Truncate(ev.UserAgent, 500))
	return app.Save(r)
}

// throttleWindow is the window in which repeated events an anonymous client can trigger at will
// (rate-limited attempts, refused cron calls) are recorded once per IP: a flood must not grow the
// audit table without bound.
const throttleWindow = time.Minute

// WriteThrottled stores ev unless an event with the same method, outcome and IP was stored within
// the last minute.
func WriteThrottled(app core.App, ev Event) error {
	since := time.Now().UTC().Add(-throttleWindow).Format(types.DefaultDateLayout)
	n, err := app.CountRecords(Collection, dbx.HashExp{
		FieldMethod: ev.Method, FieldOutcome: ev.Outcome, FieldIP: ev.IP,
	}, dbx.NewExp("[["+FieldCreated+"]] >= {:since}", dbx.Params{"since": since}))
	if err == nil && n > 0 {
		return nil
	}
	return Write(app, ev)
}

// Request records a security action of the signed-in user of e (sign-out everywhere, the MFA
// switch, the feed token). A failure to audit is logged, not returned: the action itself already
// happened.
func Request(e *core.RequestEvent, method, outcome, reason string) {
	ev := NewEvent(e, method, outcome, reason)
	if e.Auth != nil {
		ev.UserID = e.Auth.Id
		ev.Collection = e.Auth.Collection().Name
		ev.Identity = e.Auth.Email()
	}
	write := Write
	if e.Auth == nil && outcome != OutcomeSuccess {
		write = WriteThrottled // anyone can send these at will
	}
	if err := write(e.App, ev); err != nil {
		e.App.Logger().Error("Failed to record an auth event", "method", method, "error", err.Error())
	}
}

// DeleteOld deletes auth_events rows older than days, in small steps (retention.Delete), and
// reports how many it removed.
func DeleteOld(app core.App, days int, now time.Time) (int64, error) {
	cutoff := now.UTC().AddDate(0, 0, -days).Format(types.DefaultDateLayout)
	return retention.Delete(app, Collection, "[["+FieldCreated+"]] < {:cutoff}", dbx.Params{"cutoff": cutoff})
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
