package replica

import (
	"log/slog"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Litestream keeps a read transaction open on data.db so that no checkpoint moves WAL frames
// into the database before it has shipped them. PocketBase runs TRUNCATE checkpoints on data.db
// in two places: its daily "__pbDBOptimize__" job and every backup (core/base.go and
// core/backup_create.go createZip in v0.40.4). A TRUNCATE checkpoint blocks new writers while it
// waits for readers, so next to a replicator it stalls every write for PocketBase's busy timeout
// (10 s, measured) and then fails. With replication configured, PhaseFlow runs those checkpoints
// as PASSIVE ones instead, which never block; Litestream checkpoints data.db itself.

const (
	truncateCheckpoint = "PRAGMA wal_checkpoint(TRUNCATE)"
	passiveCheckpoint  = "PRAGMA wal_checkpoint(PASSIVE)"
)

// PassiveCheckpoints returns app with the TRUNCATE checkpoints on its main database turned into
// PASSIVE ones; the auxiliary database (logs, not replicated) keeps them.
func PassiveCheckpoints(app core.App) core.App {
	return passiveApp{App: app}
}

type passiveApp struct {
	core.App
}

// NonconcurrentDB returns the main database builder with TRUNCATE checkpoints made PASSIVE.
func (a passiveApp) NonconcurrentDB() dbx.Builder {
	return passiveBuilder{Builder: a.App.NonconcurrentDB()}
}

type passiveBuilder struct {
	dbx.Builder
}

// NewQuery turns a TRUNCATE checkpoint into a PASSIVE one.
func (b passiveBuilder) NewQuery(sql string) *dbx.Query {
	if sql == truncateCheckpoint {
		sql = passiveCheckpoint
	}
	return b.Builder.NewQuery(sql)
}

// optimizeJobID is PocketBase's daily checkpoint-and-optimize job (core/base.go in v0.40.4).
const optimizeJobID = "__pbDBOptimize__"

// ReplaceOptimizeJob replaces PocketBase's daily "__pbDBOptimize__" job with the same work and
// schedule, the main database's checkpoint PASSIVE. Call it on serve when replication is
// configured.
func ReplaceOptimizeJob(app core.App) {
	app.Cron().MustAdd(optimizeJobID, "0 0 * * *", func() { optimize(app) })
}

// optimize mirrors the body of PocketBase's "__pbDBOptimize__" job in v0.40.4.
func optimize(app core.App) {
	if _, err := app.NonconcurrentDB().NewQuery(passiveCheckpoint).Execute(); err != nil {
		app.Logger().Warn("Failed to run periodic PRAGMA wal_checkpoint for the main DB", slog.String("error", err.Error()))
	}
	if _, err := app.AuxNonconcurrentDB().NewQuery(truncateCheckpoint).Execute(); err != nil {
		app.Logger().Warn("Failed to run periodic PRAGMA wal_checkpoint for the auxiliary DB", slog.String("error", err.Error()))
	}
	if _, err := app.NonconcurrentDB().NewQuery("PRAGMA optimize").Execute(); err != nil {
		app.Logger().Warn("Failed to run periodic PRAGMA optimize", slog.String("error", err.Error()))
	}
}
