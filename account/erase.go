package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/audit"
	"phaseflow/mail"
	"phaseflow/signup"
	"phaseflow/throttle"
	"phaseflow/users"
)

// Reasons of the anonymised audit row an erasure leaves, one per way an account goes.
const (
	ReasonOwner = "An account was deleted by its owner."
	// ReasonImpersonation is a deletion through DELETE /api/user in a session a superuser opened.
	ReasonImpersonation = "An account was deleted in a session a superuser opened for it (impersonation)."
	ReasonLedger        = "An account listed in the erasure ledger was deleted again: the data was restored from an older copy."
	ReasonOther         = "An account was deleted by a superuser or a command."
)

// deletion is how an account is being deleted, carried to Erase in the delete's context.
type deletion struct {
	reason string
	// listed: the ledger already names the account (ApplyErasures), so it is not appended again.
	listed bool
}

type deletionKey struct{}

func withDeletion(ctx context.Context, d deletion) context.Context {
	return context.WithValue(ctx, deletionKey{}, d)
}

func deletionOf(ctx context.Context) deletion {
	if ctx != nil {
		if d, ok := ctx.Value(deletionKey{}).(deletion); ok {
			return d
		}
	}
	return deletion{reason: ReasonOther}
}

// Erase completes every deletion of a users record, whoever deletes it (DELETE /api/user, the
// admin UI, a command, ApplyErasures). It is an OnRecordDeleteExecute handler of the users
// collection and must run before PocketBase's own (priority 99), so that the transaction it opens
// holds PocketBase's delete and cascade: the record, its sessions and auth_events (relations with
// cascade delete), and its _externalAuths, _mfas, _otps and _authOrigins rows. In the same
// transaction it then deletes what names only the account's email (its auth_locks row, its
// pending sign-ups, audit rows of the email without an account), writes one anonymised audit row (the time and how; no id, email, address or
// agent) and appends the id to the erasure ledger at ledgerPath. Any failure, the ledger's
// included, rolls the whole deletion back: an erasure is never only in the database.
func Erase(e *core.RecordEvent, ledgerPath string) error {
	d := deletionOf(e.Context)
	original := e.App
	defer func() { e.App = original }()
	return e.App.RunInTransaction(func(tx core.App) error {
		e.App = tx
		if err := e.Next(); err != nil {
			return err
		}
		email := strings.ToLower(e.Record.Email())
		if err := throttle.Clear(tx, throttle.AccountKey(e.Record.Collection().Id, email)); err != nil {
			return err
		}
		if _, err := tx.DB().Delete(signup.Collection, dbx.HashExp{signup.FieldEmail: email}).Execute(); err != nil {
			return fmt.Errorf("failed to delete the pending sign-ups: %w", err)
		}
		// Audit rows that name the email but no account: sign-up requests, attempts before the
		// account existed or after it was unlinked.
		if _, err := tx.DB().Delete(audit.Collection, eventsOfEmailOnly(email)).Execute(); err != nil {
			return fmt.Errorf("failed to delete the audit rows of the email: %w", err)
		}
		if err := audit.Write(tx, audit.Event{
			Method: audit.MethodAccountDelete, Outcome: audit.OutcomeSuccess, Reason: d.reason, Collection: users.Collection,
		}); err != nil {
			return fmt.Errorf("failed to audit the erasure: %w", err)
		}
		if d.listed {
			return nil
		}
		// The last write, so that a failure of any other rolls back before the ledger names the
		// account. Should the commit itself fail after it, the ledger names an account that still
		// exists, and the next start erases it, as its owner asked.
		return appendLedger(ledgerPath, e.Record.Id, time.Now())
	})
}

// Delete erases the account of auth at its owner's request (reason: ReasonOwner, or
// ReasonImpersonation in a session a superuser opened for it). It re-reads the account inside the
// transaction and refuses with users.ErrSessionEnded when its token key changed meanwhile (a
// password change or a sign-out everywhere while the request was in flight) or it is gone;
// Erase, bound to every deletion, does the rest. A ledger that cannot be written is ErrLedger,
// and then nothing was deleted.
func Delete(app core.App, auth *core.Record, reason string) error {
	return app.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById(users.Collection, auth.Id)
		if errors.Is(err, sql.ErrNoRows) {
			return users.ErrSessionEnded
		}
		if err != nil {
			return err
		}
		if fresh.TokenKey() != auth.TokenKey() {
			return users.ErrSessionEnded
		}
		return tx.DeleteWithContext(withDeletion(context.Background(), deletion{reason: reason}), fresh)
	})
}

// DeletedNotice is the mail the former address gets after its owner deleted the account. It
// carries no health data.
func DeletedNotice(to string, at time.Time) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "Your PhaseFlow account was deleted",
		Text: fmt.Sprintf("Your PhaseFlow account for %s was deleted on %s (UTC), with everything it held: your cycle "+
			"settings, your calendar link, your signed-in devices and your sign-in history. Every device is signed out.\n\n"+
			"If you did not do this, someone used a device where you were signed in. The account cannot be restored; "+
			"tell the operator of this PhaseFlow, and sign out of PhaseFlow on shared devices in future.",
			to, at.UTC().Format("2006-01-02 15:04")),
	}
}
