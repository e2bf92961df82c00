package audit

import (
	"errors"
	"net/mail"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/internal/reqbody"
	"phaseflow/users"
)

// CapturePriority is the hook priority of the capture handlers: lower than every other handler
// PhaseFlow binds to the auth events (0 by default), so the identity and the account are recorded
// before any handler can refuse the sign-in.
const CapturePriority = -100

// Request-store keys the capture handlers use to hand details to the middleware.
const (
	userKey         = "phaseflow.audit.user"
	identityKey     = "phaseflow.audit.identity"
	reasonKey       = "phaseflow.audit.reason"
	lockedKey       = "phaseflow.audit.locked"
	secondFactorKey = "phaseflow.audit.secondFactor"
)

// MarkLocked records that the request was refused because the identity it names is locked, so
// the middleware writes the outcome locked rather than rate_limited, with the identity tried and
// the account, when there is one (its owner sees the attempt in their activity).
func MarkLocked(e *core.RequestEvent, identity, userID string) {
	e.Set(lockedKey, true)
	e.Set(identityKey, identity)
	if userID != "" {
		e.Set(userKey, userID)
	}
}

// Reasons the capture handlers give.
const (
	ReasonNoAccount     = "No account for this identity."
	ReasonWrongPassword = "Wrong password."
	ReasonDecoyOTP      = "No account for this email; a decoy code id was returned."
)

// CapturePassword records the identity and account of a password sign-in.
func CapturePassword(e *core.RecordAuthWithPasswordRequestEvent) error {
	e.Set(identityKey, e.Identity)
	if e.Record == nil {
		e.Set(reasonKey, ReasonNoAccount)
		return e.Next()
	}
	e.Set(userKey, e.Record.Id)
	err := e.Next()
	var apiErr *router.ApiError
	if errors.As(err, &apiErr) && apiErr.Message == "Failed to authenticate." {
		e.Set(reasonKey, ReasonWrongPassword)
	}
	return err
}

// CaptureOTPRequest records the email and account of an email-code request.
func CaptureOTPRequest(e *core.RecordCreateOTPRequestEvent) error {
	if email, err := reqbody.String(e.RequestEvent, "email"); err == nil {
		e.Set(identityKey, email)
	}
	if e.Record == nil {
		e.Set(reasonKey, ReasonDecoyOTP)
	} else {
		e.Set(userKey, e.Record.Id)
	}
	return e.Next()
}

// CaptureOTP records the account of an email-code sign-in.
func CaptureOTP(e *core.RecordAuthWithOTPRequestEvent) error {
	if e.Record != nil {
		e.Set(userKey, e.Record.Id)
		e.Set(identityKey, e.Record.Email())
	}
	return e.Next()
}

// CaptureOAuth2 records the identity (the provider's verified email) and, when one matched, the
// account of an OAuth2 sign-in.
func CaptureOAuth2(e *core.RecordAuthWithOAuth2RequestEvent) error {
	if e.OAuth2User != nil {
		e.Set(identityKey, e.OAuth2User.Email)
	}
	if e.Record != nil {
		e.Set(userKey, e.Record.Id)
	}
	err := e.Next()
	// A new account was created by the sign-in.
	if e.Record != nil {
		e.Set(userKey, e.Record.Id)
	}
	return err
}

// CaptureAuth records the account of every accepted credential (the last step before the token)
// and whether it completed a second factor.
func CaptureAuth(e *core.RecordAuthRequestEvent) error {
	e.Set(userKey, e.Record.Id)
	e.Set(secondFactorKey, users.SecondFactorUsed(e))
	return e.Next()
}

// identity returns the identity a sign-in named, only when it looks like an email address: a
// password typed into the email field must not be stored.
func identity(e *core.RequestEvent) string {
	id, _ := e.Get(identityKey).(string)
	if a, err := mail.ParseAddress(id); err != nil || a.Address != id {
		return ""
	}
	return id
}
