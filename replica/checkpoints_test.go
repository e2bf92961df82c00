package replica_test

import (
	"fmt"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/hook"

	"phaseflow/backup"
	"phaseflow/config"
	"phaseflow/internal/apptest"
	"phaseflow/replica"
)

func TestPassiveCheckpoints(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	db := replica.PassiveCheckpoints(app).NonconcurrentDB()
	for in, want := range map[string]string{
		"PRAGMA wal_checkpoint(TRUNCATE)": "PRAGMA wal_checkpoint(PASSIVE)",
		"PRAGMA optimize":                 "PRAGMA optimize",
	} {
		if got := db.NewQuery(in).SQL(); got != want {
			t.Fatalf("expected %q to run as %q, got %q", in, want, got)
		}
	}
	if got := replica.PassiveCheckpoints(app).AuxNonconcurrentDB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").SQL(); got != "PRAGMA wal_checkpoint(TRUNCATE)" {
		t.Fatalf("expected the auxiliary database untouched, got %q", got)
	}

	replica.ReplaceOptimizeJob(app)
	n := 0
	for _, j := range app.Cron().Jobs() {
		if j.Id() == "__pbDBOptimize__" {
			n++
			if j.Expression() != "0 0 * * *" {
				t.Fatalf("expected PocketBase's daily schedule kept, got %q", j.Expression())
			}
		}
	}
	if n != 1 {
		t.Fatalf("expected PocketBase's optimize job replaced (one job), got %d", n)
	}
}

// Next to a replicator, PocketBase's TRUNCATE checkpoint in a backup waits out the 10 s busy
// timeout while it blocks writers (measured: the backup took 10.07 s and a write meanwhile
// 9.87 s). The backup's own handler, which runs inside PhaseFlow's, must see PASSIVE checkpoints
// when replication is configured, and PocketBase's TRUNCATE ones when it is not.
func TestBackupCheckpointsArePassiveWithReplication(t *testing.T) {
	t.Parallel()
	for _, replicated := range []bool{true, false} {
		t.Run(fmt.Sprintf("replication configured: %t", replicated), func(t *testing.T) {
			t.Parallel()
			cfg := apptest.Config(t)
			want := "PRAGMA wal_checkpoint(TRUNCATE)"
			if replicated {
				dir := t.TempDir()
				cfg.Replica = config.Replica{URL: "file://" + dir, Kind: config.ReplicaFile, Path: dir}
				want = "PRAGMA wal_checkpoint(PASSIVE)"
			}
			var got string
			srv := apptest.Start(t, cfg, func(app *tests.TestApp) {
				app.OnBackupCreate().Bind(&hook.Handler[*core.BackupEvent]{
					Priority: backup.CreatePriority + 1,
					Func: func(e *core.BackupEvent) error {
						// What PocketBase's createZip runs after copying the databases.
						got = e.App.NonconcurrentDB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").SQL()
						return e.Next()
					},
				})
			})
			if _, err := backup.Create(t.Context(), srv.App, cfg); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("expected the backup's checkpoint to run as %q, got %q", want, got)
			}
		})
	}
}
