package users

import (
	"fmt"
	"strings"
	"sync"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"golang.org/x/crypto/bcrypt"

	"phaseflow/internal/reqbody"
	"phaseflow/passwords"
)

// LowerCaseEmail stores an account's email in lower case, on every write path (sign-up, OAuth2,
// the admin UI, an email change, Go code), so BOB@example.com and bob@example.com are one
// account. It is an OnRecordCreate and OnRecordUpdate handler.
func LowerCaseEmail(e *core.RecordEvent) error {
	if email := e.Record.Email(); email != strings.ToLower(email) {
		e.Record.SetEmail(strings.ToLower(email))
	}
	return e.Next()
}

// findByEmail finds the account of email in collection whatever its case.
func findByEmail(app core.App, collection *core.Collection, email string) *core.Record {
	lower := strings.ToLower(strings.TrimSpace(email))
	if lower == "" {
		return nil
	}
	r, err := app.FindAuthRecordByEmail(collection, lower)
	if err != nil {
		return nil
	}
	return r
}

// ResolvePasswordSignIn finds the account of a password sign-in whatever the case of the email
// typed, and normalises the password (NFKC) as it was when it was set. A password set before
// PhaseFlow normalised passwords still works as it was typed. It is an
// OnRecordAuthWithPasswordRequest handler for every auth collection and must run before the
// audit captures the account.
func ResolvePasswordSignIn(e *core.RecordAuthWithPasswordRequestEvent) error {
	if e.Record == nil {
		e.Record = findByEmail(e.App, e.Collection, e.Identity)
	}
	if n := passwords.Normalize(e.Password); n != e.Password {
		if e.Record == nil || e.Record.ValidatePassword(n) || !e.Record.ValidatePassword(e.Password) {
			e.Password = n
		}
	}
	return e.Next()
}

// ResolveOTPRequest finds the account of an email-code request whatever the case of the email.
// It is an OnRecordRequestOTPRequest handler and must run before the audit captures the account.
func ResolveOTPRequest(e *core.RecordCreateOTPRequestEvent) error {
	if e.Record == nil {
		// PocketBase bound this body already, so it binds again without an error.
		if email, err := reqbody.String(e.RequestEvent, "email"); err == nil {
			e.Record = findByEmail(e.App, e.Collection, email)
		}
	}
	return e.Next()
}

// ResolveOAuth2SignIn links an OAuth2 sign-in to the account of the provider's verified email
// whatever its case, and hands the email on in lower case: a sign-up stores it so, and
// PocketBase marks the new account verified only when the stored email equals the provider's
// (a provider that says "Ana@Example.com" would otherwise create an unverified account). It is
// an OnRecordAuthWithOAuth2Request handler and must run before the audit and the sign-in policy.
func ResolveOAuth2SignIn(e *core.RecordAuthWithOAuth2RequestEvent) error {
	if e.OAuth2User != nil {
		e.OAuth2User.Email = strings.ToLower(strings.TrimSpace(e.OAuth2User.Email))
	}
	if e.Record == nil && e.OAuth2User != nil && e.OAuth2User.Email != "" {
		if r := findByEmail(e.App, e.Collection, e.OAuth2User.Email); r != nil {
			e.Record, e.IsNewRecord = r, false
		}
	}
	return e.Next()
}

// ResetPasswordOnCodeVerification verifies an unverified account whose email code proves its
// address, gives it a new random password and (through its new token key) ends its sessions:
// whoever set the old password (an operator's typo, or someone who registered another person's
// address) must keep nothing. It does the upgrade itself and fails closed: PocketBase does it only
// after this handler, resets the password only without MFA, and only logs a failed save, signing
// the person in to an account the other one still holds. A code used before PocketBase has
// recorded where it went (it does so once the mail has left) cannot prove the address yet: it is
// refused without being spent. It is an OnRecordAuthWithOTPRequest handler for the users
// collection.
func ResetPasswordOnCodeVerification(e *core.RecordAuthWithOTPRequestEvent) error {
	if e.Record.Verified() || e.OTP == nil {
		return e.Next()
	}
	sentTo := e.OTP.SentTo()
	if sentTo == "" {
		return e.BadRequestError("The code is still on its way; try it again in a moment.", nil)
	}
	if sentTo == e.Record.Email() {
		e.Record.SetVerified(true)
		e.Record.SetRandomPassword()
		if err := e.App.Save(e.Record); err != nil {
			return e.InternalServerError("", fmt.Errorf("failed to verify the account %s after its email code: %w", e.Record.Id, err))
		}
	}
	return e.Next()
}

// ValidatePassword enforces the password rule whenever a password is set, on every path (the
// record API, a reset, the admin UI, PhaseFlow's endpoints, commands): the password is
// normalised (NFKC) before it is hashed and must follow rule. It is an OnRecordValidate handler
// for the users and superusers collections.
func ValidatePassword(e *core.RecordEvent, rule passwords.Rule) error {
	pv, ok := e.Record.GetRaw(core.FieldNamePassword).(*core.PasswordFieldValue)
	if !ok || pv.Plain == "" {
		return e.Next()
	}
	plain := pv.Plain
	if n := passwords.Normalize(plain); n != plain {
		e.Record.SetPassword(n)
		plain = n
	}
	if err := rule.Check(plain); err != nil {
		return validation.Errors{core.FieldNamePassword: validation.NewError(codeOf(err), err.Error())}
	}
	return e.Next()
}

func codeOf(err error) string {
	if c, ok := err.(interface{ Code() string }); ok {
		return c.Code()
	}
	return "validation_invalid_value"
}

// otpCost is the bcrypt cost of PocketBase's OTP hashes (the _otps password field, v0.40.4).
const otpCost = 8

// otpReuseAfter mirrors PocketBase's request-otp: past this many live codes of one account it
// reuses the last one instead of hashing a new one (apis/record_auth_otp_request.go, v0.40.4).
const otpReuseAfter = 10

// decoyCodes counts, per unknown address, the decoy code requests still within the OTP lifetime.
type decoyCodes struct {
	mu sync.Mutex
	m  map[string][]time.Time
}

const decoyCodesKey = "phaseflow.users.decoyCodes"

// EqualizeUnknownOTPRequest does for an email-code request of an unknown address the work that
// PocketBase does for a known one (hashing a new code, or reusing the last after
// otpReuseAfter live ones), so the answer takes as long either way and the time does not tell
// whether the address has an account. It is an OnRecordRequestOTPRequest handler.
func EqualizeUnknownOTPRequest(e *core.RecordCreateOTPRequestEvent) error {
	if e.Record != nil {
		return e.Next()
	}
	email, err := reqbody.String(e.RequestEvent, "email")
	if err != nil {
		return e.Next()
	}
	email = strings.ToLower(strings.TrimSpace(email))
	d := e.App.Store().GetOrSet(decoyCodesKey, func() any { return &decoyCodes{m: map[string][]time.Time{}} }).(*decoyCodes)
	now := time.Now()
	live := e.Collection.OTP.DurationTime()
	d.mu.Lock()
	recent := d.m[email][:0]
	for _, at := range d.m[email] {
		if now.Sub(at) < live {
			recent = append(recent, at)
		}
	}
	reuse := len(recent) >= otpReuseAfter
	if !reuse {
		recent = append(recent, now)
	}
	if len(d.m) > 100_000 {
		d.m = map[string][]time.Time{}
	}
	d.m[email] = recent
	d.mu.Unlock()
	_, _ = e.App.FindAllOTPsByRecord(core.NewRecord(e.Collection))
	if !reuse {
		_, _ = bcrypt.GenerateFromPassword([]byte(e.Password), otpCost)
	}
	return e.Next()
}
