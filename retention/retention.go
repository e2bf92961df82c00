// Package retention deletes rows that have served their time in small steps: each step is its
// own short statement (its own transaction), so a sign-in that needs SQLite's write lock waits for
// one step at most, never for the whole cleanup. The rooms (audit, sessions, signup, throttle) say
// which rows are expired; this package only says how they go.
package retention

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Batch is how many rows one step deletes.
const Batch = 1000

// Delete removes every row of table matching where (a dbx expression over params), Batch rows
// per statement, and reports how many went. Between steps it rests as long as the step took, so a
// large cleanup takes at most about half of a core and of the write lock while requests run.
// PocketBase runs the writes on its single writer connection, which a waiting request gets
// before the next step.
func Delete(app core.App, table, where string, params dbx.Params) (int64, error) {
	q := "DELETE FROM {{" + table + "}} WHERE [[rowid]] IN (SELECT [[rowid]] FROM {{" + table + "}} WHERE " + where + " LIMIT {:retentionBatch})"
	bound := dbx.Params{"retentionBatch": Batch}
	for k, v := range params {
		bound[k] = v
	}
	var total int64
	for {
		start := time.Now()
		res, err := app.DB().NewQuery(q).Bind(bound).Execute()
		if err != nil {
			return total, fmt.Errorf("failed to delete expired rows of %s: %w", table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("failed to count the deleted rows of %s: %w", table, err)
		}
		total += n
		if n < Batch {
			return total, nil
		}
		time.Sleep(time.Since(start))
	}
}
