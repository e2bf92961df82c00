// Package hooks binds PhaseFlow's rooms (users, sessions, audit, throttle, mail, jobs, settings,
// backup, metrics) to PocketBase's events. Reading Register shows every event PhaseFlow listens
// to and, where several handlers share an event, the order they run in.
package hooks

import (
	"context"
	"fmt"
	"os"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"phaseflow/account"
	"phaseflow/audit"
	"phaseflow/backup"
	"phaseflow/config"
	"phaseflow/datadir"
	"phaseflow/jobs"
	"phaseflow/mail"
	"phaseflow/metrics"
	"phaseflow/passwords"
	"phaseflow/replica"
	"phaseflow/sessions"
	"phaseflow/settings"
	"phaseflow/throttle"
	"phaseflow/users"
)

// Handler priorities on shared events: lower runs first. The audit's capture handlers
// (audit.CapturePriority) record the identity and account before any policy can refuse.
const (
	resolvePriority = -200 // users.Resolve*: find the account whatever the email's case
	policyPriority  = 0    // users.Check*: may refuse a sign-in
	sessionPriority = 10   // sessions.Issue: only for a sign-in the policy let through
)

// startupPriority runs the start-up work before the routes are bound and the server listens.
const startupPriority = -100

// erasePriority runs account.Erase before PocketBase's own delete handler (99), so the
// transaction it opens holds the delete and PocketBase's cascade.
const erasePriority = 0

// Register binds every PhaseFlow hook to app. It is called by main and by tests.
func Register(app core.App, cfg config.Config) {
	lifetimes := sessions.LifetimesFromDays(cfg.SessionDays, cfg.SessionMaxDays)
	rule := passwords.Rule{MinLength: cfg.PasswordMinLength}
	ctx, cancel := context.WithCancel(context.Background())
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		cancel()
		return e.Next()
	})

	// Start: the environment is applied to PocketBase's settings, then the erasure ledger is applied
	// again (a restored older copy must not bring an erased account back), then the jobs are
	// scheduled. The migrations ran before. Settings come first: deleting a record removes its files
	// in a PocketBase goroutine that reads the storage settings, which a settings save rewrites in
	// place — in this order no save runs while those goroutines do, and they use the configured storage.
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Id:       "phaseflowStartup",
		Priority: startupPriority,
		Func: func(se *core.ServeEvent) error {
			if err := settings.Apply(se.App, cfg); err != nil {
				return fmt.Errorf("failed to apply the configuration: %w", err)
			}
			ledger, err := account.LedgerPath(cfg.ErasureLedger, se.App.DataDir())
			if err != nil {
				return err
			}
			erasedBefore := func() (bool, error) { return account.ErasedBefore(se.App) }
			if err := account.PrepareLedger(ledger, erasedBefore); err != nil {
				return fmt.Errorf("failed to open the erasure ledger (ERASURE_LEDGER): %w", err)
			}
			if _, err := account.ApplyErasures(se.App, ledger); err != nil {
				return fmt.Errorf("failed to apply the erasure ledger (ERASURE_LEDGER): %w", err)
			}
			if err := settings.UpsertSuperuser(se.App, cfg); err != nil {
				return fmt.Errorf("failed to create the superuser from POCKETBASE_ADMIN_EMAIL: %w", err)
			}
			settings.StartOIDC(ctx, se.App, cfg)
			jobs.Schedule(se.App, cfg)
			if cfg.Replica.Enabled() {
				replica.ReplaceOptimizeJob(se.App) // next to ./app replicate, no blocking checkpoints
			}
			return se.Next()
		},
	})
	app.OnMailerSend().BindFunc(settings.UseConsoleMailer(cfg, &settings.ConsoleMailer{Out: os.Stdout}))

	// The data directory: a restore must not swap it under a running server (phaseflow/datadir).
	// Backups: every archive is encrypted when BACKUP_ENCRYPTION_KEY is set; PocketBase's in-place
	// restore is refused, ./app backup restore checks the archive first.
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Id: "phaseflowDataDirLock", Priority: startupPriority - 1, Func: datadir.HoldWhileServing,
	})
	app.OnBackupCreate().Bind(&hook.Handler[*core.BackupEvent]{
		Func: backup.PrepareArchive(cfg), Priority: backup.CreatePriority,
	})
	app.OnBackupRestore().BindFunc(backup.RefuseInPlaceRestore)

	// Metrics (METRICS_ADDR): counted from the audit rows, mails and job runs; served on their own
	// address while the server runs (the request durations come from a router middleware).
	if m := metrics.New(app, cfg); m != nil {
		app.OnServe().BindFunc(m.Serve)
		app.OnTerminate().BindFunc(m.Stop)
		app.OnRecordAfterCreateSuccess(audit.Collection).BindFunc(m.CountAuthEvent)
		app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{Func: m.CountMail, Priority: metrics.MailPriority})
		jobs.Observe(app, m.CountJob)
	}

	// The users collection's account mails carry PhaseFlow's own plain part (settings.Apply sets
	// their subject and HTML).
	app.OnMailerRecordVerificationSend(users.Collection).BindFunc(mail.PlainTextHook(mail.Verification))
	app.OnMailerRecordPasswordResetSend(users.Collection).BindFunc(mail.PlainTextHook(mail.PasswordReset))
	app.OnMailerRecordEmailChangeSend(users.Collection).BindFunc(mail.PlainTextHook(mail.EmailChange))
	app.OnMailerRecordOTPSend(users.Collection).BindFunc(mail.PlainTextHook(mail.SignInCode))
	app.OnMailerRecordAuthAlertSend(users.Collection).BindFunc(mail.PlainTextHook(mail.NewDevice))

	// The users record: defaults, emails in lower case, the one validation point, the password
	// rule, the next reminder's due time, a takeover's feed, and the sessions of an account whose
	// access changed. Superusers
	// follow the same email and password rules.
	app.OnRecordCreate(users.Collection).BindFunc(func(e *core.RecordEvent) error {
		return users.SetDefaults(e, cfg.RegistrationApproval)
	})
	for _, col := range []string{users.Collection, core.CollectionNameSuperusers} {
		app.OnRecordCreate(col).BindFunc(users.LowerCaseEmail)
		app.OnRecordUpdate(col).BindFunc(users.LowerCaseEmail)
		app.OnRecordValidate(col).BindFunc(func(e *core.RecordEvent) error { return users.ValidatePassword(e, rule) })
	}
	app.OnRecordValidate(users.Collection).BindFunc(users.Validate)
	// The next reminder is computed just before the write, from the reminders job's state as
	// stored then (users.ScheduleReminder).
	app.OnRecordCreateExecute(users.Collection).BindFunc(users.ScheduleReminder)
	app.OnRecordUpdateExecute(users.Collection).BindFunc(users.ScheduleReminder)
	app.OnRecordUpdate(users.Collection).BindFunc(users.ClearFeedOnVerification)
	app.OnRecordUpdate(users.Collection).BindFunc(users.EndSessionsOnAccessChange)
	// GET /api/user's account cache (users.LoadCachedAuth) forgets every account that changes,
	// first, and everything when the collection (its token secret) does.
	app.OnRecordAfterUpdateSuccess(users.Collection).BindFunc(users.ForgetCachedAuth)
	app.OnRecordAfterDeleteSuccess(users.Collection).BindFunc(users.ForgetCachedAuth)
	app.OnCollectionAfterUpdateSuccess().BindFunc(users.ForgetAllCachedAuth)
	app.OnRecordAfterUpdateSuccess(users.Collection).BindFunc(sessions.EndAllOnKeyChange)

	// Erasure: every deletion of an account (DELETE /api/user, the admin UI, a command, the
	// ledger) also removes what names only its email, leaves an anonymised audit row and is
	// recorded in the erasure ledger, in the deletion's transaction.
	app.OnRecordDeleteExecute(users.Collection).Bind(&hook.Handler[*core.RecordEvent]{
		Priority: erasePriority,
		Func: func(e *core.RecordEvent) error {
			ledger, err := account.LedgerPath(cfg.ErasureLedger, e.App.DataDir())
			if err != nil {
				return err
			}
			return account.Erase(e, ledger)
		},
	})

	// Sessions: a row deleted or edited anywhere (the admin UI too) takes effect at once, and a
	// realtime connection lives only as long as its session.
	app.OnRecordAfterDeleteSuccess(sessions.Collection).BindFunc(sessions.OnDeleted)
	app.OnRecordAfterUpdateSuccess(sessions.Collection).BindFunc(sessions.OnChanged)
	app.OnRealtimeSubscribeRequest().BindFunc(sessions.RememberRealtime)
	app.OnRealtimeMessageSend().BindFunc(sessions.GuardRealtime)

	// Sign-in: the account is found whatever the email's case, the audit records, then the
	// policy decides, then the session token is issued. A password reset by email unlocks.
	app.OnRecordAuthWithPasswordRequest().Bind(&hook.Handler[*core.RecordAuthWithPasswordRequestEvent]{
		Func: users.ResolvePasswordSignIn, Priority: resolvePriority,
	})
	app.OnRecordAuthWithPasswordRequest().Bind(&hook.Handler[*core.RecordAuthWithPasswordRequestEvent]{
		Func: audit.CapturePassword, Priority: audit.CapturePriority,
	})
	app.OnRecordRequestOTPRequest().Bind(&hook.Handler[*core.RecordCreateOTPRequestEvent]{
		Func: users.ResolveOTPRequest, Priority: resolvePriority,
	})
	app.OnRecordRequestOTPRequest().Bind(&hook.Handler[*core.RecordCreateOTPRequestEvent]{
		Func: audit.CaptureOTPRequest, Priority: audit.CapturePriority,
	})
	app.OnRecordRequestOTPRequest().Bind(&hook.Handler[*core.RecordCreateOTPRequestEvent]{
		Func: users.EqualizeUnknownOTPRequest, Priority: policyPriority,
	})
	app.OnRecordAuthWithOTPRequest().Bind(&hook.Handler[*core.RecordAuthWithOTPRequestEvent]{
		Func: audit.CaptureOTP, Priority: audit.CapturePriority,
	})
	app.OnRecordAuthWithOTPRequest(users.Collection).Bind(&hook.Handler[*core.RecordAuthWithOTPRequestEvent]{
		Func: users.ResetPasswordOnCodeVerification, Priority: policyPriority,
	})
	app.OnRecordAuthWithOAuth2Request(users.Collection).Bind(&hook.Handler[*core.RecordAuthWithOAuth2RequestEvent]{
		Func: users.ResolveOAuth2SignIn, Priority: resolvePriority,
	})
	app.OnRecordAuthWithOAuth2Request().Bind(&hook.Handler[*core.RecordAuthWithOAuth2RequestEvent]{
		Func: audit.CaptureOAuth2, Priority: audit.CapturePriority,
	})
	app.OnRecordAuthWithOAuth2Request(users.Collection).Bind(&hook.Handler[*core.RecordAuthWithOAuth2RequestEvent]{
		Func: sessions.TakeIDToken, Priority: audit.CapturePriority,
	})
	app.OnRecordAuthWithOAuth2Request(users.Collection).Bind(&hook.Handler[*core.RecordAuthWithOAuth2RequestEvent]{
		Func: func(e *core.RecordAuthWithOAuth2RequestEvent) error {
			return users.CheckOAuth2SignIn(e, cfg.OpenRegistration)
		},
		Priority: policyPriority,
	})
	app.OnRecordAuthRequest().Bind(&hook.Handler[*core.RecordAuthRequestEvent]{
		Func: audit.CaptureAuth, Priority: audit.CapturePriority,
	})
	app.OnRecordAuthRequest(users.Collection).Bind(&hook.Handler[*core.RecordAuthRequestEvent]{
		Func: users.CheckSignIn, Priority: policyPriority,
	})
	app.OnRecordAuthRequest(users.Collection).Bind(&hook.Handler[*core.RecordAuthRequestEvent]{
		Func:     func(e *core.RecordAuthRequestEvent) error { return sessions.Issue(e, lifetimes) },
		Priority: sessionPriority,
	})
	app.OnRecordConfirmPasswordResetRequest().BindFunc(throttle.ClearOnReset)
}
