// Package migrations holds PhaseFlow's Go migrations and the names of its collections and
// fields. Importing it (even blank) registers the migrations with PocketBase, which applies them
// on `serve` and in tests.
package migrations

// Collection names.
const (
	Users      = "users"
	AuthEvents = "auth_events"
)

// Fields that PhaseFlow adds to the users collection.
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
	FieldName              = "name"
)

// ServerOwnedFields may be written only by the server or a superuser, never by the user through
// PocketBase's record API.
var ServerOwnedFields = []string{
	FieldGarminConnected, FieldApproved, FieldMFA, FieldCalendarTokenHash, FieldLastNotifiedOn, "verified",
}

// Fields of the auth_events collection.
const (
	EventMethod       = "method"
	EventOutcome      = "outcome"
	EventReason       = "reason"
	EventUser         = "user"
	EventCollection   = "collection"
	EventIdentity     = "identity"
	EventActor        = "actor"
	EventSecondFactor = "secondFactor"
	EventIP           = "ip"
	EventUserAgent    = "userAgent"
	EventCreated      = "created"
)

// Auth event methods.
const (
	MethodPassword    = "password"
	MethodOTPRequest  = "otp_request"
	MethodOTP         = "otp"
	MethodOAuth2      = "oauth2"
	MethodRefresh     = "refresh"
	MethodImpersonate = "impersonate"
	MethodLogoutAll   = "logout_all"
	MethodMFAToggle   = "mfa_setting"
	MethodCron        = "cron"
	MethodFeedToken   = "calendar_token"
)

// Auth event outcomes.
const (
	OutcomeSuccess     = "success"
	OutcomeFailure     = "failure"
	OutcomeRateLimited = "rate_limited"
	OutcomeMFARequired = "mfa_required"
)

// DefaultMFARule asks accounts with mfa = true for a second factor after a password or email-code
// sign-in. An OIDC sign-in is exempt because Pocket-ID already verified the person (passkey).
// @request.context is set by PocketBase itself, so a client cannot forge the exemption.
const DefaultMFARule = `mfa = true && (@request.context != "oauth2" || @request.body.provider != "oidc")`
