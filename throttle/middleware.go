package throttle

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/audit"
	"phaseflow/internal/reqbody"
	"phaseflow/mail"
)

// Limits are the operator's throttling settings.
type Limits struct {
	// PerClient is the attempts per Window of each budget for one client (AUTH_RATE_LIMIT).
	PerClient int
	// LockFailures is the failures against one account within FailureWindow that lock it
	// (ACCOUNT_LOCK_FAILURES).
	LockFailures int
	// AppURL is linked from the lock notice.
	AppURL string
}

// PocketBase's answers to wrong credentials, which count towards an account's lock.
const (
	msgWrongPassword = "Failed to authenticate."
	msgWrongCode     = "Invalid or expired OTP"
	// codeWrongPassword is the field error of a wrong password in confirm-email-change.
	codeWrongPassword = "validation_invalid_password"
)

// msgLocked answers every attempt against a locked account, known or not.
const msgLocked = "This account is locked after too many failed sign-in attempts. Try again in %s, or reset your password by email to unlock it now."

// Middleware spends the client's budget of every sign-in attempt and code request (429 with
// Retry-After when it is spent), refuses password and email-code sign-in of a locked account
// (429, the right password included), and counts the failures that lead to a lock. It is a
// router middleware; it must run after the body limit and inside the audit middleware, which
// records its refusals.
func Middleware(l Limits) func(*core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		budget := BudgetOf(e.Request.Method, e.Request.URL.Path)
		if budget == "" {
			return e.Next()
		}
		now := time.Now()
		if ok, wait := Take(e.App, budget, Client(e.RealIP()), l.PerClient, now); !ok {
			return tooMany(e, wait, "Too many attempts from your address. Try again in "+humanWait(wait)+".")
		}
		if !bindable(e.Request) {
			return e.Error(http.StatusUnsupportedMediaType, "Send the request body as JSON (Content-Type: application/json).", nil)
		}
		key, err := lockKeyOf(e)
		if err != nil {
			return e.BadRequestError("The request body could not be read. Send it as JSON, each field once.", nil)
		}
		if key == "" {
			return e.Next()
		}
		until, err := Locked(e.App, key, now)
		if err != nil {
			return e.InternalServerError("", err)
		}
		if !until.IsZero() {
			collectionID, email, _ := strings.Cut(key, ":")
			ownerID := ""
			if owner, err := e.App.FindAuthRecordByEmail(collectionID, email); err == nil && owner.Collection().Name == "users" {
				ownerID = owner.Id
			}
			audit.MarkLocked(e, email, ownerID)
			return tooMany(e, until.Sub(now), fmt.Sprintf(msgLocked, humanWait(until.Sub(now))))
		}
		err = e.Next()
		switch {
		case err == nil:
			if clearErr := Clear(e.App, key); clearErr != nil {
				e.App.Logger().Warn("Failed to clear an account's failed sign-ins", "error", clearErr.Error())
			}
		case wrongCredentials(err):
			CountFailure(e, l, key)
		}
		return err
	}
}

// CountFailure records a failed sign-in against key and, when it locks the account, mails the
// owner (if the identity is an account) and audits the lock. Failures to count are logged: the
// attempt itself is already refused.
func CountFailure(e *core.RequestEvent, l Limits, key string) {
	f, err := RecordFailure(e.App, key, l.LockFailures, time.Now())
	if err != nil {
		e.App.Logger().Error("Failed to count a failed sign-in", "error", err.Error())
		return
	}
	if f.LockedUntil.IsZero() {
		return
	}
	collectionID, email, _ := strings.Cut(key, ":")
	ev := audit.NewEvent(e, audit.MethodAccountLock, audit.OutcomeSuccess,
		fmt.Sprintf("Locked for %s after too many failed sign-ins (lock %d in a row).", humanWait(time.Until(f.LockedUntil)), f.Lock))
	ev.Identity = email
	owner, findErr := e.App.FindAuthRecordByEmail(collectionID, email)
	if findErr == nil {
		ev.UserID, ev.Collection = owner.Id, owner.Collection().Name
		mail.SendLater(e.App, lockNotice(owner.Email(), f, l.AppURL))
	}
	if err := audit.Write(e.App, ev); err != nil {
		e.App.Logger().Error("Failed to audit an account lock", "error", err.Error())
	}
}

// lockNotice is the mail an account's owner gets once per lock.
func lockNotice(to string, f Failure, appURL string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "Your PhaseFlow account was locked",
		Text: fmt.Sprintf("Someone tried to sign in to your PhaseFlow account with a wrong password or code too many times, "+
			"so password and email-code sign-in are locked until %s (UTC).\n\n"+
			"If it was you, wait, or reset your password by email to unlock it now.\n\n"+
			"If it was not you, your password is still safe as long as you do not use it elsewhere; resetting it unlocks the account.",
			f.LockedUntil.UTC().Format("2006-01-02 15:04")),
		Link: &mail.Link{Label: "Reset my password", URL: appURL + "/forgot-password"},
	}
}

// lockKeyOf returns the lock key of a password or email-code sign-in or an email-change
// confirmation, or "" for another request. It reads the body as PocketBase's handler will bind
// it (phaseflow/internal/reqbody), so no spelling of "identity" reaches PocketBase uncounted; an
// error is a body that PocketBase's handler would refuse too.
func lockKeyOf(e *core.RequestEvent) (string, error) {
	rest, ok := strings.CutPrefix(e.Request.URL.Path, "/api/collections/")
	if !ok || e.Request.Method != http.MethodPost {
		return "", nil
	}
	name, action, _ := strings.Cut(rest, "/")
	col, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil || !col.IsAuth() {
		return "", nil
	}
	switch action {
	case "auth-with-password":
		identity, err := reqbody.String(e, "identity")
		if err != nil || identity == "" {
			return "", err
		}
		return AccountKey(col.Id, identity), nil
	case "auth-with-otp":
		otpID, err := reqbody.String(e, "otpId")
		if err != nil {
			return "", err
		}
		otp, err := e.App.FindOTPById(otpID)
		if err != nil || otp.CollectionRef() != col.Id {
			return "", nil
		}
		owner, err := e.App.FindRecordById(col, otp.RecordRef())
		if err != nil {
			return "", nil
		}
		return AccountKey(col.Id, owner.Email()), nil
	case "confirm-email-change":
		token, err := reqbody.String(e, "token")
		if err != nil {
			return "", err
		}
		owner, err := e.App.FindAuthRecordByToken(token, core.TokenTypeEmailChange)
		if err != nil || owner.Collection().Id != col.Id {
			return "", nil
		}
		return AccountKey(col.Id, owner.Email()), nil
	}
	return "", nil
}

// Client is the budget key of the client address ip: the address itself for IPv4, its /64 for
// IPv6, the smallest block one subscriber is given (RFC 6177), so that walking through the
// addresses of one's own network does not buy new budgets.
func Client(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

// bindable reports whether r's body is one that PhaseFlow reads as PocketBase binds it: none,
// JSON or a form. PocketBase also binds XML, by Go field names this package cannot know, so a
// credential request in XML is refused rather than let through uncounted.
func bindable(r *http.Request) bool {
	if r.ContentLength == 0 {
		return true
	}
	ct := r.Header.Get("Content-Type")
	for _, ok := range []string{"application/json", "multipart/form-data", "application/x-www-form-urlencoded"} {
		if strings.HasPrefix(ct, ok) {
			return true
		}
	}
	return false
}

// wrongCredentials reports whether err is PocketBase's answer to a wrong password or code (a
// sign-in's message, or the password field error of confirm-email-change).
func wrongCredentials(err error) bool {
	var apiErr *router.ApiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		return false
	}
	if apiErr.Message == msgWrongPassword || apiErr.Message == msgWrongCode {
		return true
	}
	field, _ := apiErr.Data["password"].(map[string]any)
	return field["code"] == codeWrongPassword
}

// tooMany answers 429 with Retry-After.
func tooMany(e *core.RequestEvent, wait time.Duration, message string) error {
	e.Response.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(wait, time.Second).Seconds()))))
	return e.TooManyRequestsError(message, nil)
}

// humanWait says a wait in minutes or seconds, e.g. "15 minutes".
func humanWait(d time.Duration) string {
	switch {
	case d >= 90*time.Minute:
		return strconv.Itoa(int(math.Ceil(d.Hours()))) + " hours"
	case d >= 90*time.Second:
		return strconv.Itoa(int(math.Ceil(d.Minutes()))) + " minutes"
	case d > time.Second:
		return strconv.Itoa(int(math.Ceil(d.Seconds()))) + " seconds"
	}
	return "a second"
}
