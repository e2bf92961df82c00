// Package migrations holds PhaseFlow's Go migrations. Importing it (even blank) registers them
// with PocketBase, which applies them on `serve` and in tests. The names they use live with the
// rooms that own them (users, audit).
package migrations

import (
	"fmt"
	"slices"

	"github.com/pocketbase/pocketbase/core"
)

// setSelectValues replaces the values of a select field.
func setSelectValues(app core.App, collection, field string, values []string) error {
	col, err := app.FindCollectionByNameOrId(collection)
	if err != nil {
		return err
	}
	f, ok := col.Fields.GetByName(field).(*core.SelectField)
	if !ok {
		return fmt.Errorf("%s.%s is not a select field", collection, field)
	}
	f.Values = values
	return app.Save(col)
}

// addSelectValues appends the values a select field lacks, keeping the ones it has.
func addSelectValues(app core.App, collection, field string, values ...string) error {
	return editSelectValues(app, collection, field, func(have []string) []string {
		for _, v := range values {
			if !slices.Contains(have, v) {
				have = append(have, v)
			}
		}
		return have
	})
}

// removeSelectValues removes values from a select field, keeping the others in their order.
func removeSelectValues(app core.App, collection, field string, values ...string) error {
	return editSelectValues(app, collection, field, func(have []string) []string {
		return slices.DeleteFunc(have, func(v string) bool { return slices.Contains(values, v) })
	})
}

func editSelectValues(app core.App, collection, field string, edit func([]string) []string) error {
	col, err := app.FindCollectionByNameOrId(collection)
	if err != nil {
		return err
	}
	f, ok := col.Fields.GetByName(field).(*core.SelectField)
	if !ok {
		return fmt.Errorf("%s.%s is not a select field", collection, field)
	}
	f.Values = edit(slices.Clone(f.Values))
	return app.Save(col)
}

// methodsV1 are the audit methods of the first release. Migrations name their values as they
// were when written, so a later change to audit.Methods cannot change what an old one did.
func methodsV1() []string {
	return []string{
		"password", "otp_request", "otp", "oauth2", "refresh", "impersonate",
		"logout_all", "mfa_setting", "calendar_token", "cron",
	}
}
