package replica_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"phaseflow/backup"
	"phaseflow/config"
	"phaseflow/datadir"
	"phaseflow/internal/apptest"
	"phaseflow/replica"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// replicate runs replica.Run for srv's app until the returned stop is called; stop waits for
// the final sync.
func replicate(t *testing.T, srv *apptest.Server, cfg config.Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- replica.Run(ctx, srv.App, cfg, quiet, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("replication did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("replication did not start within 30s")
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("replication ended with %v", err)
		}
	}
}

func TestReplicateAndRestore(t *testing.T) {
	t.Parallel()
	s3 := apptest.StartS3(t, "replica")
	targets := []struct {
		name string
		cfg  func(*config.Config)
	}{
		{"a directory", func(c *config.Config) {
			dir := t.TempDir()
			c.Replica = config.Replica{URL: "file://" + dir, Kind: config.ReplicaFile, Path: dir}
		}},
		{"S3-compatible storage", func(c *config.Config) {
			c.Backup.S3 = s3.Config("replica")
			c.Replica = config.Replica{URL: "s3://replica/phaseflow", Kind: config.ReplicaS3, Bucket: "replica", Path: "phaseflow"}
		}},
	}
	for _, target := range targets {
		t.Run("replicating to "+target.name+" and restoring into a fresh directory keeps every user", func(t *testing.T) {
			t.Parallel()
			cfg := apptest.Config(t)
			target.cfg(&cfg)
			srv := apptest.Start(t, cfg)
			apptest.CreateUser(t, srv.App, "before@example.com")
			stop := replicate(t, srv, cfg)
			for i := range 2 {
				apptest.CreateUser(t, srv.App, fmt.Sprintf("during%d@example.com", i))
			}

			if _, err := datadir.Exclusive(srv.App.DataDir()); !errors.Is(err, datadir.ErrInUse) {
				t.Fatalf("expected the replicator to hold the data directory, got %v", err)
			}
			stop()

			dst := apptest.NewApp(t, cfg)
			if err := replica.Restore(t.Context(), dst, cfg, time.Time{}, quiet); err != nil {
				t.Fatalf("restore: %v", err)
			}
			restored := apptest.Serve(t, dst, cfg)
			for _, email := range []string{"before@example.com", "during0@example.com", "during1@example.com"} {
				restored.SignIn(t, email, "replica test")
			}
			info, err := os.Stat(filepath.Join(dst.DataDir(), "data.db"))
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("expected data.db readable by its owner only, got %v %v", info.Mode(), err)
			}
		})
	}

	t.Run("a directory replica inside the data directory is refused", func(t *testing.T) {
		t.Parallel()
		cfg := apptest.Config(t)
		srv := apptest.Start(t, cfg)
		inside := filepath.Join(srv.App.DataDir(), "replica")
		cfg.Replica = config.Replica{URL: "file://" + inside, Kind: config.ReplicaFile, Path: inside}
		err := replica.Run(t.Context(), srv.App, cfg, quiet, nil)
		if err == nil || !strings.HasSuffix(err.Error(), "; put the replica elsewhere") {
			t.Fatalf("expected the replica refused, got %v", err)
		}
	})

	t.Run("restoring from an empty replica is refused and changes nothing", func(t *testing.T) {
		t.Parallel()
		cfg := apptest.Config(t)
		dir := t.TempDir()
		cfg.Replica = config.Replica{URL: "file://" + dir, Kind: config.ReplicaFile, Path: dir}
		dst := apptest.NewApp(t, cfg)
		apptest.CreateUser(t, dst, "kept@example.com")
		before := apptest.UsersSnapshot(t, dst)
		if err := replica.Restore(t.Context(), dst, cfg, time.Time{}, quiet); !errors.Is(err, replica.ErrEmpty) {
			t.Fatalf("expected %v, got %v", replica.ErrEmpty, err)
		}
		if after := apptest.UsersSnapshot(t, dst); after != before {
			t.Fatal("expected nothing changed")
		}
	})
}

func TestReplicationAfterABackupRestoreFollowsTheRestoredData(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	dir := t.TempDir()
	cfg.Replica = config.Replica{URL: "file://" + dir, Kind: config.ReplicaFile, Path: dir}
	old := apptest.Start(t, cfg)
	apptest.CreateUser(t, old.App, "kept@example.com")
	stop := replicate(t, old, cfg)
	name, err := backup.Create(t.Context(), old.App, cfg)
	if err != nil {
		t.Fatal(err)
	}
	apptest.CreateUser(t, old.App, "after-backup@example.com")
	stop()

	// The backup is restored and replication starts again on the same replica.
	restored := apptest.NewApp(t, cfg)
	if err := backup.Restore(t.Context(), restored, cfg, filepath.Join(old.App.DataDir(), "backups", name), nil); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Serve(t, restored, cfg)
	stop = replicate(t, srv, cfg)
	apptest.CreateUser(t, restored, "after-restore@example.com")
	stop()

	fresh := apptest.NewApp(t, cfg)
	if err := replica.Restore(t.Context(), fresh, cfg, time.Time{}, quiet); err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]bool{"kept@example.com": true, "after-restore@example.com": true, "after-backup@example.com": false} {
		if _, err := fresh.FindAuthRecordByEmail("users", email); (err == nil) != want {
			t.Errorf("expected %s present=%t in the replica, got error %v", email, want, err)
		}
	}
}
