package mail

import (
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Kind names one of the account mails PocketBase sends for the users collection.
type Kind int

// The account mails.
const (
	// Verification is mailed by request-verification.
	Verification Kind = iota
	// PasswordReset is mailed by request-password-reset.
	PasswordReset
	// EmailChange is mailed to the new address by request-email-change.
	EmailChange
	// SignInCode is mailed by request-otp: a sign-in code, or the second step after a password.
	SignInCode
	// NewDevice is mailed after a sign-in from a device the account has not used before.
	NewDevice
)

// AccountMail is the mail of kind in PhaseFlow's words, with how long its link or code works
// taken from col. Its text holds PocketBase's placeholders ({APP_URL}, {TOKEN}, {OTP},
// {ALERT_INFO}), which PocketBase fills in the HTML part (Template) and PlainTextHook in the
// plain part; every link goes to a PhaseFlow page under APP_URL. Superusers keep PocketBase's
// own mails, which link to the admin UI.
func AccountMail(kind Kind, col *core.Collection) Message {
	link := func(label, page string) *Link {
		return &Link{Label: label, URL: core.EmailPlaceholderAppURL + page + "?token=" + core.EmailPlaceholderToken}
	}
	switch kind {
	case Verification:
		return Message{
			Subject: "Confirm your email address for PhaseFlow",
			Text: "Please confirm that this is your address, so PhaseFlow can send you reminders and turn on your " +
				"calendar link. The link works for " + lasting(col.VerificationToken.DurationTime()) + ".\n\n" +
				"If you did not ask for it, ignore this mail.",
			Link: link("Confirm my address", "/verify-email"),
		}
	case PasswordReset:
		return Message{
			Subject: "Reset your PhaseFlow password",
			Text: "Someone, hopefully you, asked to reset the password of your PhaseFlow account. Choose a new one " +
				"with the link below; it works for " + lasting(col.PasswordResetToken.DurationTime()) + ", and every device " +
				"signed in to your account is signed out.\n\nIf you did not ask for it, ignore this mail: your password stays as it is.",
			Link: link("Choose a new password", "/reset-password"),
		}
	case EmailChange:
		return Message{
			Subject: "Confirm your new email address for PhaseFlow",
			Text: "Someone, hopefully you, asked to move a PhaseFlow account to this address. Confirm it with the link " +
				"below and the account's password; it works for " + lasting(col.EmailChangeToken.DurationTime()) + ".\n\n" +
				"If you did not ask for it, ignore this mail: nothing changes.",
			Link: link("Confirm the new address", "/confirm-email-change"),
		}
	case SignInCode:
		return Message{
			Subject: "Your PhaseFlow sign-in code",
			Text: "Your code to sign in to PhaseFlow: " + core.EmailPlaceholderOTP + "\n\nIt works for " +
				lasting(col.OTP.DurationTime()) + ". If you did not ask for it, someone may know your address or your " +
				"password: ignore this mail, and change your password in Settings if you have one.",
		}
	case NewDevice:
		return Message{
			Subject: "A new sign-in to your PhaseFlow account",
			Text: "Your PhaseFlow account was just signed in to from a new device:\n" + core.EmailPlaceholderAlertInfo +
				"\n\nIf it was you, there is nothing to do. If it was not you, change your password and end the " +
				"sessions you do not know in Settings.",
			Link: &Link{Label: "Open Settings", URL: core.EmailPlaceholderAppURL + "/settings"},
		}
	}
	panic("mail: unknown account mail kind " + strconv.Itoa(int(kind)))
}

// lasting says how long a link or code works, e.g. "30 minutes" or "1 day".
func lasting(d time.Duration) string {
	unit := func(n int, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return strconv.Itoa(n) + " " + word + "s"
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int(d/time.Hour), "hour")
	}
	return unit(max(1, int(d.Round(time.Minute)/time.Minute)), "minute")
}

// Template is m as PocketBase's email template: the subject and the inner HTML, which
// PocketBase wraps in its layout.
func (m Message) Template() core.EmailTemplate {
	return core.EmailTemplate{Subject: m.Subject, Body: m.HTMLBody()}
}

// PlainTextHook returns the handler of one of PocketBase's account mails of the users
// collection (bind it to the OnMailerRecord…Send of kind) that replaces the plain part PocketBase
// would derive from the HTML with the mail's own text, its placeholders filled from the event.
func PlainTextHook(kind Kind) func(e *core.MailerRecordEvent) error {
	return func(e *core.MailerRecordEvent) error {
		if e.Record == nil || e.Message == nil {
			return e.Next()
		}
		str := func(key string) string { s, _ := e.Meta[key].(string); return s }
		e.Message.Text = strings.NewReplacer(
			core.EmailPlaceholderAppURL, e.App.Settings().Meta.AppURL,
			core.EmailPlaceholderAppName, e.App.Settings().Meta.AppName,
			core.EmailPlaceholderToken, str("token"),
			core.EmailPlaceholderOTP, str("password"),
			core.EmailPlaceholderAlertInfo, str("info"),
		).Replace(AccountMail(kind, e.Record.Collection()).PlainText())
		return e.Next()
	}
}
