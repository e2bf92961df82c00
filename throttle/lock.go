package throttle

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/retention"
)

// LocksCollection holds one row per account (or tried identity) with recent failed sign-ins.
// Deleting a row unlocks the account.
const LocksCollection = "auth_locks"

// Fields of the auth_locks collection.
const (
	FieldKey         = "key"
	FieldFailures    = "failures"
	FieldWindowStart = "windowStart"
	FieldConsecutive = "consecutive"
	FieldLocks       = "locks"
	FieldLockedUntil = "lockedUntil"
)

// Lock timing.
const (
	// FailureWindow is how far back failures are counted towards a lock.
	FailureWindow = 15 * time.Minute
	// FirstLock is how long the first lock lasts; each further lock in a row doubles it.
	FirstLock = 15 * time.Minute
	// LongestLock caps a lock.
	LongestLock = 24 * time.Hour
	// MaxConsecutive is NIST SP 800-63B-4's cap: never more consecutive failures without a lock,
	// however slowly they come.
	MaxConsecutive = 100
)

// AccountKey is the lock key of an identity of an auth collection: the collection id and the
// email in lower case. Unknown identities get keys too, so a lock never tells whether an account
// exists.
func AccountKey(collectionID, email string) string {
	return collectionID + ":" + strings.ToLower(strings.TrimSpace(email))
}

// Locked reports until when key is locked at now (zero time: not locked).
func Locked(app core.App, key string, now time.Time) (time.Time, error) {
	var until types.DateTime
	err := app.DB().Select(FieldLockedUntil).From(LocksCollection).
		Where(dbx.HashExp{FieldKey: key}).Row(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("failed to read the account lock: %w", err)
	}
	if t := until.Time(); t.After(now) {
		return t, nil
	}
	return time.Time{}, nil
}

// Failure is the result of recording a failed sign-in.
type Failure struct {
	// LockedUntil is set when this failure locked the account.
	LockedUntil time.Time
	// Lock is how many locks in a row the account has had (1 for the first).
	Lock int
}

// RecordFailure counts a failed sign-in against key at now and locks the key when limit
// failures fell within FailureWindow, or MaxConsecutive failures came in a row. The count is
// one SQL statement, so failures from many addresses at once are all counted.
func RecordFailure(app core.App, key string, limit int, now time.Time) (Failure, error) {
	nowS := now.UTC().Format(types.DefaultDateLayout)
	cutoff := now.Add(-FailureWindow).UTC().Format(types.DefaultDateLayout)
	var row struct {
		Failures    int `db:"failures"`
		Consecutive int `db:"consecutive"`
		Locks       int `db:"locks"`
	}
	err := app.DB().NewQuery(`
		INSERT INTO {{` + LocksCollection + `}} ([[id]], [[key]], [[failures]], [[windowStart]], [[consecutive]], [[locks]], [[lockedUntil]], [[created]], [[updated]])
		VALUES ({:id}, {:key}, 1, {:now}, 1, 0, '', {:now}, {:now})
		ON CONFLICT([[key]]) DO UPDATE SET
			[[failures]] = CASE WHEN [[windowStart]] < {:cutoff} THEN 1 ELSE [[failures]] + 1 END,
			[[windowStart]] = CASE WHEN [[windowStart]] < {:cutoff} THEN {:now} ELSE [[windowStart]] END,
			[[consecutive]] = [[consecutive]] + 1,
			[[updated]] = {:now}
		RETURNING [[failures]], [[consecutive]], [[locks]]`).
		Bind(dbx.Params{"id": core.GenerateDefaultRandomId(), "key": key, "now": nowS, "cutoff": cutoff}).
		One(&row)
	if err != nil {
		return Failure{}, fmt.Errorf("failed to count a failed sign-in: %w", err)
	}
	if row.Failures < limit && row.Consecutive < MaxConsecutive {
		return Failure{}, nil
	}
	lock := row.Locks + 1
	until := now.Add(lockLength(lock))
	// Only the request that still sees the count over the limit locks: concurrent ones find it reset.
	res, err := app.DB().NewQuery(`
		UPDATE {{` + LocksCollection + `}} SET [[failures]] = 0, [[consecutive]] = 0, [[locks]] = [[locks]] + 1,
			[[lockedUntil]] = {:until}, [[updated]] = {:now}
		WHERE [[key]] = {:key} AND ([[failures]] >= {:limit} OR [[consecutive]] >= {:max})`).
		Bind(dbx.Params{"key": key, "until": until.UTC().Format(types.DefaultDateLayout), "now": nowS, "limit": limit, "max": MaxConsecutive}).
		Execute()
	if err != nil {
		return Failure{}, fmt.Errorf("failed to lock the account: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Failure{}, nil
	}
	return Failure{LockedUntil: until, Lock: lock}, nil
}

// lockLength is FirstLock doubled for each earlier lock in a row, at most LongestLock.
func lockLength(lock int) time.Duration {
	d := FirstLock
	for i := 1; i < lock && d < LongestLock; i++ {
		d *= 2
	}
	return min(d, LongestLock)
}

// Clear forgets key's failures and locks: a successful sign-in, or a password reset by email.
func Clear(app core.App, key string) error {
	if _, err := app.DB().Delete(LocksCollection, dbx.HashExp{FieldKey: key}).Execute(); err != nil {
		return fmt.Errorf("failed to clear the account lock: %w", err)
	}
	return nil
}

// DeleteStale removes rows with no lock in force and no failure within FailureWindow, and reports
// how many (a cleanup job).
func DeleteStale(app core.App, now time.Time) (int64, error) {
	nowS := now.UTC().Format(types.DefaultDateLayout)
	stale := now.Add(-LongestLock).UTC().Format(types.DefaultDateLayout)
	return retention.Delete(app, LocksCollection, "[["+FieldLockedUntil+"]] < {:now} AND [[updated]] < {:stale}",
		dbx.Params{"now": nowS, "stale": stale})
}

// ClearOnReset unlocks an account whose owner reset the password by email: the mailed link
// proves they hold the address. It is an OnRecordConfirmPasswordResetRequest handler.
func ClearOnReset(e *core.RecordConfirmPasswordResetRequestEvent) error {
	if err := e.Next(); err != nil {
		return err
	}
	if err := Clear(e.App, AccountKey(e.Collection.Id, e.Record.Email())); err != nil {
		e.App.Logger().Error("Failed to unlock an account after its password reset", "user", e.Record.Id, "error", err.Error())
	}
	return nil
}
