// Package account is the account as a whole, across every collection that holds something of it:
// the export of everything PhaseFlow keeps about a person (GET /api/user/export), and the
// account's erasure, whoever deletes it (DELETE /api/user, the admin UI, a command), with the
// ledger that keeps an erased account erased when an older backup or replica is restored.
//
// Export and erasure live side by side because they must name the same places. Where an
// account's data is kept, and what each does with it:
//
//   - users: the record (profile, name, flags, the calendar feed's hash). Exported without its
//     secrets (password hash, token key, feed hash); deleted.
//   - sessions (a relation with cascade delete): exported without ids or the identity provider's
//     id_token; deleted by PocketBase's cascade.
//   - auth_events (a relation with cascade delete): exported; deleted by the cascade, and one
//     anonymised "account_delete" row (time and how, no id, email, address or agent) is written.
//     Rows that name the account's email without the account (its sign-up request, attempts
//     before it existed; eventsOfEmailOnly): exported and deleted here.
//   - _externalAuths, _mfas, _otps, _authOrigins (PocketBase's own, by recordRef): the linked
//     identities are exported (provider, subject, date); PocketBase deletes all four with the
//     record.
//   - auth_locks (keyed by the email): a failure counter, not exported; deleted here.
//   - signups (pending sign-ups, by email): not exported (no account yet); deleted here.
//
// A collection that gains account data belongs in both lists.
package account

import (
	"strings"

	"github.com/pocketbase/dbx"

	"phaseflow/audit"
)

// eventsOfEmailOnly selects the auth_events rows that name email (in any case) but no account.
func eventsOfEmailOnly(email string) dbx.Expression {
	return dbx.And(dbx.HashExp{audit.FieldUser: ""},
		dbx.NewExp("lower(["+audit.FieldIdentity+"]) = {:email}", dbx.Params{"email": strings.ToLower(email)}))
}
