package replica_test

import (
	"testing"
	"time"

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

// Next to a replicator, PocketBase's own TRUNCATE checkpoint in a backup waits out the 10 s busy
// timeout (measured: 10.07 s, and a write meanwhile took 9.87 s); the PASSIVE one does not wait.
// The bound is half the busy timeout, so only that stall fails it, not a slow machine.
func TestBackupWhileReplicatingDoesNotStall(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	dir := t.TempDir()
	cfg.Replica = config.Replica{URL: "file://" + dir, Kind: config.ReplicaFile, Path: dir}
	srv := apptest.Start(t, cfg)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	stop := replicate(t, srv, cfg)
	defer stop()

	start := time.Now()
	if _, err := backup.Create(t.Context(), srv.App, cfg); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("expected the backup not to wait out the busy timeout, it took %v", took)
	}
}
