package datadir_test

import (
	"errors"
	"testing"

	"phaseflow/datadir"
)

func TestLocks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	server, err := datadir.Shared(dir)
	if err != nil {
		t.Fatalf("expected a server to take the shared lock, got %v", err)
	}
	replicator, err := datadir.Shared(dir)
	if err != nil {
		t.Fatalf("expected a replicator to share it, got %v", err)
	}
	if _, err := datadir.Exclusive(dir); !errors.Is(err, datadir.ErrInUse) {
		t.Fatalf("expected a restore refused while both run, got %v", err)
	}
	if err := server.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := datadir.Exclusive(dir); !errors.Is(err, datadir.ErrInUse) {
		t.Fatalf("expected a restore refused while the replicator runs, got %v", err)
	}
	if err := replicator.Release(); err != nil {
		t.Fatal(err)
	}

	restore, err := datadir.Exclusive(dir)
	if err != nil {
		t.Fatalf("expected a restore to take the lock once nobody holds it, got %v", err)
	}
	if _, err := datadir.Shared(dir); !errors.Is(err, datadir.ErrRestoring) {
		t.Fatalf("expected a server refused during the restore, got %v", err)
	}
	if _, err := datadir.Exclusive(dir); !errors.Is(err, datadir.ErrInUse) {
		t.Fatalf("expected a second restore refused, got %v", err)
	}
	if err := restore.Release(); err != nil {
		t.Fatal(err)
	}
	if l, err := datadir.Shared(dir); err != nil {
		t.Fatalf("expected the server to start after the restore, got %v", err)
	} else {
		_ = l.Release()
	}
}
