// Package users is the home of PhaseFlow's users record: the collection and field names, the
// mapping between a record and cycle.Profile, the guarded write every /api/user change goes
// through, the session token with its claims, and the sign-in policy (registration, linking,
// approval). It knows PocketBase's records but not HTTP routes.
package users

import "strings"

// Collection is PocketBase's auth collection of PhaseFlow's accounts.
const Collection = "users"

// Fields PhaseFlow adds to the users collection (camelCase, as the JSON and the SDK name them).
const (
	FieldCycleLength       = "cycleLength"
	FieldLastPeriodDate    = "lastPeriodDate"
	FieldNotificationTime  = "notificationTime"
	FieldTimezone          = "timezone"
	FieldGarminConnected   = "garminConnected"
	FieldMFA               = "mfa"
	FieldCalendarTokenHash = "calendarTokenHash"
	FieldApproved          = "approved"
	FieldLastNotifiedOn    = "lastNotifiedOn"
	// FieldNextReminderAt is when the account's next daily reminder is due (UTC, indexed; empty
	// for none), kept in step with the profile by ScheduleReminder and by the reminders job.
	FieldNextReminderAt = "nextReminderAt"
	// FieldReminderClaimedUntil is set while a run of the reminders job holds the account's
	// reminder: until then no other run sends it, after it a later run retries.
	FieldReminderClaimedUntil = "reminderClaimedUntil"
	FieldName                 = "name"
	FieldVerified             = "verified"
)

// ServerOwnedFields may be written only by the server or a superuser, never by the user through
// PocketBase's record API.
var ServerOwnedFields = []string{
	FieldGarminConnected, FieldApproved, FieldMFA, FieldCalendarTokenHash, FieldLastNotifiedOn, FieldVerified,
	FieldNextReminderAt, FieldReminderClaimedUntil,
}

// OwnerOnlyRule lets a user read and edit only their own record.
const OwnerOnlyRule = "id = @request.auth.id"

// credentialFields change only through PhaseFlow's own endpoints (POST /api/user/password, the
// reset and email-change flows), never through PocketBase's record API: there a wrong
// oldPassword would be an unthrottled password oracle for anyone holding a token.
var credentialFields = []string{"password", "oldPassword", "passwordConfirm", "email", "tokenKey"}

// UpdateRule is the users update rule: the owner may edit their own record through PocketBase's
// record API but never set a server-owned field or a credential. Profile values are checked in
// OnRecordValidate.
var UpdateRule = OwnerOnlyRule + " && " + notSetRule(append(append([]string{}, ServerOwnedFields...), credentialFields...))

// CreateRule is the users create rule when registration is open: only an OAuth2 sign-in may
// create an account (its email is the identity provider's, verified), never with a server-owned
// field set. Everyone else signs up by proving their email first (POST /api/signup).
var CreateRule = `@request.context = "oauth2" && ` + notSetRule(ServerOwnedFields)

func notSetRule(fields []string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = "@request.body." + f + ":isset = false"
	}
	return strings.Join(parts, " && ")
}

// DefaultMFARule asks accounts with mfa = true for a second factor after a password or email-code
// sign-in. An OIDC sign-in is exempt because Pocket-ID already verified the person (passkey).
// @request.context is set by PocketBase itself, so a client cannot forge the exemption.
const DefaultMFARule = `mfa = true && (@request.context != "oauth2" || @request.body.provider != "` + OIDCProvider + `")`

// OIDCProvider is the PocketBase OAuth2 provider PhaseFlow configures for Pocket-ID.
const OIDCProvider = "oidc"
