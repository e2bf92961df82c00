package restore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"

	"phaseflow/datadir"
	"phaseflow/internal/apptest"
	"phaseflow/restore"
)

// snapshotDB copies app's data.db into dir with VACUUM INTO, as a backup does.
func snapshotDB(t *testing.T, srv *apptest.Server, dir string) {
	t.Helper()
	_, err := srv.App.DB().NewQuery("VACUUM INTO {:p}").Bind(dbx.Params{"p": filepath.Join(dir, restore.DataDB)}).Execute()
	if err != nil {
		t.Fatal(err)
	}
}

func TestReplaceDatabase(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	src := apptest.Start(t, cfg)
	apptest.CreateUser(t, src.App, "ana@example.com")

	dst := apptest.NewApp(t, cfg)
	apptest.CreateUser(t, dst, "replaced@example.com")
	aux := filepath.Join(dst.DataDir(), "auxiliary.db")
	auxBefore, err := os.Stat(aux)
	if err != nil {
		t.Fatal(err)
	}

	st, err := restore.Begin(dst)
	if err != nil {
		t.Fatal(err)
	}
	snapshotDB(t, src, st.New())
	if err := restore.CheckDatabase(t.Context(), filepath.Join(st.New(), restore.DataDB)); err != nil {
		t.Fatalf("expected the snapshot to pass the check, got %v", err)
	}
	if err := st.Replace(cfg, restore.Database); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := dst.FindAuthRecordByEmail("users", "ana@example.com"); err != nil {
		t.Fatalf("expected the restored user, got %v", err)
	}
	if _, err := dst.FindAuthRecordByEmail("users", "replaced@example.com"); err == nil {
		t.Fatal("expected the replaced database's user gone")
	}
	auxAfter, err := os.Stat(aux)
	if err != nil || !os.SameFile(auxBefore, auxAfter) {
		t.Fatalf("expected a database-only restore to keep auxiliary.db, got %v", err)
	}
	entries, _ := os.ReadDir(dst.DataDir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".phaseflow_restore_") {
			t.Fatalf("expected the stage removed after success, got %s", e.Name())
		}
	}
	// The lock is released: a server may start again.
	l, err := datadir.Shared(dst.DataDir())
	if err != nil {
		t.Fatalf("expected the lock released, got %v", err)
	}
	_ = l.Release()
}

func TestReplacePutsThePreviousDataBack(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	src := apptest.Start(t, cfg)
	apptest.CreateUser(t, src.App, "ana@example.com")

	dst := apptest.NewApp(t, cfg)
	apptest.CreateUser(t, dst, "kept@example.com")
	before := apptest.UsersSnapshot(t, dst)
	// A storage/ that a database-only restore does not move aside: the incoming one cannot
	// replace it, so the swap fails after data.db was already moved.
	if err := os.MkdirAll(filepath.Join(dst.DataDir(), "storage", "x"), 0o700); err != nil {
		t.Fatal(err)
	}

	st, err := restore.Begin(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snapshotDB(t, src, st.New())
	if err := os.MkdirAll(filepath.Join(st.New(), "storage", "y"), 0o700); err != nil {
		t.Fatal(err)
	}
	err = st.Replace(cfg, restore.Database)
	if err == nil || !strings.HasSuffix(err.Error(), "; the previous data is back in place") {
		t.Fatalf("expected the swap to fail and be undone, got %v", err)
	}
	if after := apptest.UsersSnapshot(t, dst); after != before {
		t.Fatal("expected the previous data back in place and open")
	}
}

func TestCheckDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "text.db"), []byte("SQLite format 3\x00 but not really a database file at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"missing.db", "text.db"} {
		if err := restore.CheckDatabase(t.Context(), filepath.Join(dir, name)); !errors.Is(err, restore.ErrBadDatabase) {
			t.Fatalf("%s: expected %v, got %v", name, restore.ErrBadDatabase, err)
		}
	}
}
