package users

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
)

// ErrEmailTaken is returned by Create when an account already has the address (whatever its
// case).
var ErrEmailTaken = errors.New("an account with this email address already exists")

// ErrInvalidEmail is returned by Create for an address that is not a plain email address.
var ErrInvalidEmail = errors.New("not a plain email address, e.g. ana@example.com")

// PasswordRefusedError is returned by Create when the password rule (ValidatePassword, on save)
// refuses the password. Its message is the rule's sentence.
type PasswordRefusedError struct {
	Message string
}

// Error implements error.
func (e *PasswordRefusedError) Error() string { return e.Message }

// NormalizeEmail is how an operator-typed address is stored: trimmed and in lower case.
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if a, err := netmail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return "", ErrInvalidEmail
	}
	return email, nil
}

// Create saves a new account made by an operator (./app users create): the email in lower case,
// the password under the password rule (ValidatePassword refuses it on save), approved (the
// operator who makes it approves it, also with REGISTRATION_APPROVAL), and verified only when
// the operator vouches for the address. Profile defaults come from SetDefaults as for every new
// account. A refusal changes nothing.
func Create(app core.App, email, password string, verified bool) (*core.Record, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	col, err := app.FindCollectionByNameOrId(Collection)
	if err != nil {
		return nil, err
	}
	if findByEmail(app, col, email) != nil {
		return nil, ErrEmailTaken
	}
	r := core.NewRecord(col)
	r.SetEmail(email)
	r.SetPassword(password)
	r.SetVerified(verified)
	r.Set(FieldApproved, true)
	if err := app.Save(r); err != nil {
		return nil, createError(err)
	}
	return r, nil
}

// createError turns the field errors of a refused save into Create's errors: a taken address
// (another process created it since the check) or the password rule's sentence.
func createError(err error) error {
	var errs validation.Errors
	if !errors.As(err, &errs) {
		return err
	}
	if e, ok := errs[core.FieldNameEmail].(validation.Error); ok && e.Code() == "validation_not_unique" {
		return ErrEmailTaken
	}
	if e, ok := errs[core.FieldNameEmail]; ok {
		return fmt.Errorf("%w: %v", ErrInvalidEmail, e)
	}
	if e, ok := errs[core.FieldNamePassword]; ok {
		return &PasswordRefusedError{Message: e.Error()}
	}
	return err
}
