// Package signup is sign-up that proves the email first (Sudhodanan & Paverd, "Pre-hijacked
// accounts", 2022): a person asks for a code, the code goes to the address, and the account is
// created, verified from birth, only when the code comes back. Until then no account and no
// session exist, and the answer to "send me a code" is the same whether the address is taken or
// not: a taken address gets a notice instead of a code, and both mails leave after the answer.
package signup

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/mail"
	"phaseflow/retention"
	"phaseflow/users"
)

// Collection holds pending sign-ups (superusers only).
const Collection = "signups"

// Fields of the signups collection.
const (
	FieldEmail    = "email"
	FieldCodeHash = "codeHash"
	FieldExpires  = "expires"
	FieldAttempts = "attempts"
	FieldDecoy    = "decoy"
)

// Sign-up limits.
const (
	// CodeLength is the number of digits of a code.
	CodeLength = 8
	// CodeLifetime is how long a code works.
	CodeLifetime = 10 * time.Minute
	// MaxAttempts is how many wrong codes end a pending sign-up.
	MaxAttempts = 5
	// MaxLive is how many live sign-ups one address may have. Past it a request gets the newest
	// one's id and no mail, so no one can make PhaseFlow mail an address more often, from however
	// many client addresses (PocketBase's request-otp does the same past 10 live codes).
	MaxLive = 5
)

// ErrInvalidCode is the one answer to a wrong, expired, used up or unknown code.
var ErrInvalidCode = errors.New("invalid or expired code")

// Request starts a sign-up for email at now and returns its id. A code goes to a free address; a
// taken one gets a notice that someone tried to sign up with it. Both paths write the same row
// (a taken address's is a decoy no code can complete) and mail after the caller has answered, so
// neither the answer nor its time says whether the address has an account. Past MaxLive live
// sign-ups of the address it returns the newest one's id and mails nothing, taken or not.
func Request(app core.App, email, appURL string, now time.Time) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	col, err := app.FindCachedCollectionByNameOrId(Collection)
	if err != nil {
		return "", err
	}
	live, err := app.FindRecordsByFilter(col, FieldEmail+" = {:email} && "+FieldExpires+" > {:now}", "-"+FieldExpires, MaxLive, 0,
		dbx.Params{"email": email, "now": now.UTC().Format(types.DefaultDateLayout)})
	if err != nil {
		return "", fmt.Errorf("failed to count the address's sign-ups: %w", err)
	}
	if len(live) >= MaxLive {
		app.Logger().Warn("Too many sign-up requests for one address - answering with the newest, no mail", "signup", live[0].Id)
		return live[0].Id, nil
	}
	code, err := newCode()
	if err != nil {
		return "", err
	}
	_, findErr := app.FindAuthRecordByEmail(users.Collection, email)
	taken := findErr == nil
	if findErr != nil && !errors.Is(findErr, sql.ErrNoRows) {
		return "", findErr
	}
	id := core.GenerateDefaultRandomId()
	r := core.NewRecord(col)
	r.Set(core.FieldNameId, id)
	r.Set(FieldEmail, email)
	r.Set(FieldCodeHash, hashCode(id, code))
	r.Set(FieldExpires, now.Add(CodeLifetime))
	r.Set(FieldDecoy, taken)
	if err := app.Save(r); err != nil {
		return "", fmt.Errorf("failed to save the sign-up: %w", err)
	}
	if taken {
		mail.SendLater(app, takenNotice(email, appURL))
	} else {
		mail.SendLater(app, codeMail(email, code))
	}
	return id, nil
}

// Verify completes the sign-up id with code at now: it creates the account, verified, with a
// random password (the person may set one afterwards) and approved unless approval is on. Every
// failure is ErrInvalidCode; wrong codes count, and the fifth ends the sign-up.
func Verify(app core.App, id, code string, now time.Time) (*core.Record, error) {
	r, err := app.FindRecordById(Collection, id)
	if errors.Is(err, sql.ErrNoRows) {
		// The same work as for a row: a hash and a comparison.
		subtle.ConstantTimeCompare([]byte(hashCode(id, code)), []byte(hashCode(id, "")))
		return nil, ErrInvalidCode
	}
	if err != nil {
		return nil, err
	}
	match := subtle.ConstantTimeCompare([]byte(hashCode(r.Id, code)), []byte(r.GetString(FieldCodeHash))) == 1
	expired := !now.Before(r.GetDateTime(FieldExpires).Time())
	if !match || expired || r.GetBool(FieldDecoy) {
		attempts := r.GetInt(FieldAttempts) + 1
		if expired || attempts >= MaxAttempts {
			err = app.Delete(r)
		} else {
			r.Set(FieldAttempts, attempts)
			err = app.Save(r)
		}
		if err != nil {
			return nil, err
		}
		return nil, ErrInvalidCode
	}
	var created *core.Record
	err = app.RunInTransaction(func(tx core.App) error {
		if err := tx.Delete(r); err != nil {
			return err
		}
		email := r.GetString(FieldEmail)
		if _, err := tx.FindAuthRecordByEmail(users.Collection, email); err == nil {
			return ErrInvalidCode // taken meanwhile (an operator, an OAuth2 sign-in)
		}
		col, err := tx.FindCachedCollectionByNameOrId(users.Collection)
		if err != nil {
			return err
		}
		u := core.NewRecord(col)
		u.SetEmail(email)
		u.SetVerified(true)
		u.SetRandomPassword()
		if err := tx.Save(u); err != nil {
			return err
		}
		created = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// DeleteExpired removes pending sign-ups whose code expired before now and reports how many.
func DeleteExpired(app core.App, now time.Time) (int64, error) {
	return retention.Delete(app, Collection, "[["+FieldExpires+"]] <= {:now}",
		dbx.Params{"now": now.UTC().Format(types.DefaultDateLayout)})
}

func newCode() (string, error) {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(CodeLength), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", CodeLength, n), nil
}

// hashCode binds a code to its sign-up, so a stored hash is useless for another.
func hashCode(id, code string) string {
	sum := sha256.Sum256([]byte(id + ":" + code))
	return hex.EncodeToString(sum[:])
}

func codeMail(to, code string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "Your PhaseFlow sign-up code",
		Text: fmt.Sprintf("Your code to create a PhaseFlow account: %s\n\nIt works for %d minutes. "+
			"If you did not ask for it, ignore this mail: no account is created without the code.", code, int(CodeLifetime.Minutes())),
	}
}

func takenNotice(to, appURL string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "Someone tried to create a PhaseFlow account with your address",
		Text: "Someone asked to create a PhaseFlow account with this email address, which already has one. " +
			"Nothing was changed.\n\nIf it was you, sign in instead. If you forgot your password, you can reset it: " +
			appURL + "/forgot-password",
		Link: &mail.Link{Label: "Sign in", URL: appURL + "/login"},
	}
}
