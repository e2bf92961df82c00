package jobs

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/config"
	"phaseflow/cycle"
	"phaseflow/mail"
	"phaseflow/users"
)

// Delivery bounds a run of the reminders job.
type Delivery struct {
	// Workers is how many mails are in flight at once.
	Workers int
	// PerRun is the most reminders one run claims; the rest wait for the next run.
	PerRun int
	// Attempts is how often one mail is tried when the mail server fails temporarily.
	Attempts int
	// Backoff is the wait before the second try; it doubles before each further one.
	Backoff time.Duration
	// Lease is how long a claim holds: a reminder claimed by a run that died is retried by a
	// run after it. It is longer than a run can take (Deadline plus one mail's tries).
	Lease time.Duration
	// Deadline is how long a run keeps claiming; mails already claimed are still sent.
	Deadline time.Duration
	// AccountBackoff is how long one account's reminder waits after the mail server turned it
	// away temporarily on every try (a 4xx reply), while the run goes on with the others.
	AccountBackoff time.Duration
}

// DefaultDelivery is how the scheduled and triggered runs deliver: 4 mails at a time, at most
// 2,000 a run (every 5 minutes), 3 tries 2 s and 4 s apart, claims held 15 minutes, an account
// the server keeps turning away retried after 30 minutes.
var DefaultDelivery = Delivery{Workers: 4, PerRun: 2000, Attempts: 3, Backoff: 2 * time.Second, Lease: 15 * time.Minute,
	Deadline: 3 * time.Minute, AccountBackoff: 30 * time.Minute}

// dueBatch bounds how many due accounts one query reads.
const dueBatch = 200

// errServerUnavailable ends a run's claiming: the mail server cannot take mail now (unreachable,
// or refusing for a reason of its own, such as its credentials or a quota).
var errServerUnavailable = errors.New("the mail server is not taking mail; the remaining reminders wait for the next run")

// sendReminders mails every account whose next reminder is due at now. The due accounts are read
// by the index on nextReminderAt, in keyset order, so a run with nobody due costs one index
// lookup. Each reminder is claimed (reminderClaimedUntil) before it is sent and recorded
// (lastNotifiedOn, the next nextReminderAt) after: two concurrent runs never send one twice, and
// a run that dies between the claim and the record leaves a claim that expires, so a later run
// sends it instead of losing it. Failures are told apart by the SMTP reply (classify).
func sendReminders(app core.App, cfg config.Config, now time.Time, d Delivery) (processed, sent int, err error) {
	stopClaiming := time.Now().Add(d.Deadline)
	var (
		mu      sync.Mutex
		errs    []error
		stopped bool
		wg      sync.WaitGroup
	)
	slots := make(chan struct{}, d.Workers)
	report := func(ok bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		if ok {
			sent++
		}
		if err != nil {
			errs = append(errs, err)
			if errors.Is(err, errServerUnavailable) {
				stopped = true
			}
		}
	}
	halted := func() bool { mu.Lock(); defer mu.Unlock(); return stopped }

	cursor := dueCursor{}
	for processed < d.PerRun && !halted() && time.Now().Before(stopClaiming) {
		due, err := findDue(app, now, cursor, min(dueBatch, d.PerRun-processed))
		if err != nil {
			report(false, err)
			break
		}
		if len(due) == 0 {
			break
		}
		cursor = due[len(due)-1]
		for _, c := range due {
			if processed >= d.PerRun || halted() || !time.Now().Before(stopClaiming) {
				break
			}
			held, err := claim(app, c.ID, now, d.Lease)
			if err != nil {
				report(false, fmt.Errorf("user %s: %w", c.ID, err))
				continue
			}
			if held == "" {
				continue // another run holds it, or it is no longer due
			}
			processed++
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				ok, err := deliver(app, cfg, c.ID, held, now, d)
				if err != nil {
					err = fmt.Errorf("user %s: %w", c.ID, err)
				}
				report(ok, err)
			})
		}
	}
	wg.Wait()
	return processed, sent, errors.Join(errs...)
}

// dueCursor is the keyset position of the last due account read.
type dueCursor struct {
	At string `db:"nextReminderAt"`
	ID string `db:"id"`
}

// findDue reads up to n accounts after cursor whose reminder is due at now and not claimed.
func findDue(app core.App, now time.Time, after dueCursor, n int) ([]dueCursor, error) {
	nowS := now.UTC().Format(types.DefaultDateLayout)
	var due []dueCursor
	err := app.DB().Select("id", users.FieldNextReminderAt).From(users.Collection).
		Where(dbx.NewExp("[["+users.FieldNextReminderAt+"]] != '' AND [["+users.FieldNextReminderAt+"]] <= {:now}", dbx.Params{"now": nowS})).
		AndWhere(dbx.NewExp("([["+users.FieldNextReminderAt+"]] > {:at} OR ([["+users.FieldNextReminderAt+"]] = {:at} AND [[id]] > {:id}))",
			dbx.Params{"at": after.At, "id": after.ID})).
		AndWhere(dbx.NewExp("[["+users.FieldReminderClaimedUntil+"]] < {:now}", dbx.Params{"now": nowS})).
		OrderBy(users.FieldNextReminderAt, "id").Limit(int64(n)).All(&due)
	if err != nil {
		return nil, fmt.Errorf("failed to read the due reminders: %w", err)
	}
	return due, nil
}

// claim takes the reminder of userID for lease, only if it is still due and no claim holds it,
// and returns the claim ("" when not taken).
func claim(app core.App, userID string, now time.Time, lease time.Duration) (string, error) {
	nowS := now.UTC().Format(types.DefaultDateLayout)
	held := now.Add(lease).UTC().Format(types.DefaultDateLayout)
	res, err := app.DB().Update(users.Collection,
		dbx.Params{users.FieldReminderClaimedUntil: held},
		dbx.And(
			dbx.HashExp{"id": userID},
			dbx.NewExp("[["+users.FieldNextReminderAt+"]] != '' AND [["+users.FieldNextReminderAt+"]] <= {:now}", dbx.Params{"now": nowS}),
			dbx.NewExp("[["+users.FieldReminderClaimedUntil+"]] < {:now}", dbx.Params{"now": nowS}),
		)).Execute()
	if err != nil {
		return "", fmt.Errorf("failed to claim the reminder: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return "", err
	}
	return held, nil
}

// deliver sends the reminder of userID under the claim held and records the outcome. It
// reports whether a mail went out.
func deliver(app core.App, cfg config.Config, userID, held string, now time.Time, d Delivery) (bool, error) {
	u, err := app.FindRecordById(users.Collection, userID)
	if err != nil {
		return false, fmt.Errorf("failed to read the account: %w", err)
	}
	rem, ok, err := users.NextReminder(u, now)
	if err != nil || !ok || !rem.Due(now) {
		// The profile changed since it was due (or cannot be read): only the schedule is fixed.
		return false, errors.Join(err, record(app, userID, held, nil, now))
	}
	status, err := users.Cycle(u).StatusOn(rem.On)
	if err != nil {
		// Nothing to report today: the day is passed over, tomorrow's reminder is scheduled.
		return false, errors.Join(err, record(app, userID, held, &rem.On, now))
	}
	msg := mail.Message{To: u.Email(), Subject: cycle.ReminderSubject, Text: cycle.ReminderText(status, cfg.AppURL)}
	err = sendWithRetry(app, msg, d)
	if err == nil {
		return true, record(app, userID, held, &rem.On, now)
	}
	switch classify(err) {
	case recipientRefused:
		return false, errors.Join(fmt.Errorf("the address refused the reminder for %s; not again that day: %w", rem.On, err),
			record(app, userID, held, &rem.On, now))
	case tryAccountLater:
		retry := now.Add(d.AccountBackoff)
		return false, errors.Join(fmt.Errorf("the mail server turned the reminder away on every try; again after %s: %w",
			retry.UTC().Format(time.RFC3339), err), release(app, userID, held, retry.UTC().Format(types.DefaultDateLayout)))
	default:
		return false, errors.Join(fmt.Errorf("%w: %w", errServerUnavailable, err), release(app, userID, held, ""))
	}
}

// sendWithRetry sends msg, trying again, up to d.Attempts times with backoff, while the failure
// may pass (no reply, or a 4xx reply).
func sendWithRetry(app core.App, msg mail.Message, d Delivery) error {
	wait := d.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = mail.Send(app, msg); err == nil || !mayPass(err) || attempt >= d.Attempts {
			return err
		}
		time.Sleep(wait)
		wait *= 2
	}
}

// failure is what a failed send means for the reminder.
type failure int

const (
	// recipientRefused: the address takes no mail (no such mailbox or domain); the day is
	// passed over.
	recipientRefused failure = iota + 1
	// tryAccountLater: the server turned this mail away for now (a 4xx reply); the account waits
	// AccountBackoff and the run goes on.
	tryAccountLater
	// serverUnavailable: nothing goes out now (no reply, 421, or a 5xx about the server itself:
	// credentials, policy, quota, relaying); the claim is released and the run stops.
	serverUnavailable
)

// classify tells failures apart by the SMTP reply. Only a 5xx whose enhanced status code (RFC
// 3463) names the address — 5.1.x, a bad mailbox or domain, or 5.2.1, a disabled mailbox —
// passes over the day: any other 5xx means the server, and everyone's reminders, are affected.
func classify(err error) failure {
	var reply *textproto.Error
	switch {
	case !errors.As(err, &reply), reply.Code == 421:
		return serverUnavailable
	case reply.Code < 500:
		return tryAccountLater
	case strings.HasPrefix(reply.Msg, "5.1.") || strings.HasPrefix(reply.Msg, "5.2.1"):
		return recipientRefused
	default:
		return serverUnavailable
	}
}

// mayPass reports whether a failed send is worth another try now: no reply, or a 4xx reply.
func mayPass(err error) bool {
	var reply *textproto.Error
	return !errors.As(err, &reply) || reply.Code < 500
}

// errClaimLost is returned when a reminder's claim expired and another run took it meanwhile.
var errClaimLost = errors.New("the reminder's claim expired while it was being sent")

// record ends the claim held on userID: the reminder of *sentOn (if any) is recorded as done,
// and the next one is computed from the account as it is now, in one transaction with the read.
// It is tried 3 times: a mail that went out but is not recorded would go again.
func record(app core.App, userID, held string, sentOn *cycle.Date, now time.Time) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		err = app.RunInTransaction(func(tx core.App) error {
			u, err := tx.FindRecordById(users.Collection, userID)
			if err != nil {
				return err
			}
			if u.GetString(users.FieldReminderClaimedUntil) != held {
				return errClaimLost
			}
			set := dbx.Params{users.FieldReminderClaimedUntil: ""}
			if sentOn != nil {
				set[users.FieldLastNotifiedOn] = sentOn.String()
				u.Set(users.FieldLastNotifiedOn, sentOn.String())
			}
			rem, ok, err := users.NextReminder(u, now)
			set[users.FieldNextReminderAt] = users.ReminderAt(rem, ok && err == nil)
			_, err = tx.DB().Update(users.Collection, set, dbx.HashExp{"id": userID}).Execute()
			return err
		})
		if err == nil || errors.Is(err, errClaimLost) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("failed to record the reminder: %w", err)
	}
	return nil
}

// release replaces the claim held on userID by until ("" for none), so a run after it tries
// again; a claim another run took meanwhile is left alone.
func release(app core.App, userID, held, until string) error {
	if _, err := app.DB().Update(users.Collection, dbx.Params{users.FieldReminderClaimedUntil: until},
		dbx.HashExp{"id": userID, users.FieldReminderClaimedUntil: held}).Execute(); err != nil {
		return fmt.Errorf("failed to release the reminder's claim: %w", err)
	}
	return nil
}
