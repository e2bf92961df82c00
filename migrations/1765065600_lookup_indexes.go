package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/audit"
	"phaseflow/users"
)

// Two lookups that scanned whole tables get an index:
//   - an account by its address: PocketBase's FindAuthRecordByEmail compares with COLLATE NOCASE,
//     which its own (binary, partial) email index cannot serve, so every sign-in, code request
//     and throttle check read all of users;
//   - an earlier erasure (account.ErasedBefore, at a start without the ledger): the anonymised
//     account_delete rows among all of auth_events.
func init() {
	m.Register(func(app core.App) error {
		u, err := app.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			return err
		}
		u.AddIndex("idx_users_email_nocase", false, "email COLLATE NOCASE", "")
		if err := app.Save(u); err != nil {
			return err
		}
		a, err := app.FindCollectionByNameOrId(audit.Collection)
		if err != nil {
			return err
		}
		a.AddIndex("idx_auth_events_erasures", false, audit.FieldMethod+", "+audit.FieldOutcome,
			audit.FieldMethod+" = '"+audit.MethodAccountDelete+"'")
		return app.Save(a)
	}, func(app core.App) error {
		for col, idx := range map[string]string{users.Collection: "idx_users_email_nocase", audit.Collection: "idx_auth_events_erasures"} {
			c, err := app.FindCollectionByNameOrId(col)
			if err != nil {
				return err
			}
			c.RemoveIndex(idx)
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	})
}
