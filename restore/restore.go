// Package restore is the one way PhaseFlow's data directory is replaced by restored data, for
// every restore path (./app backup restore and ./app replica restore): it holds the data
// directory exclusively (no server or replicator may run), prepares the new content in a private
// stage inside the data directory, checks the database before anything is touched, swaps the
// content, keeps the previous content aside until the restored data has been opened, migrated and
// passed After, and puts the previous content back if any of that fails.
package restore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/account"
	"phaseflow/config"
	"phaseflow/datadir"
)

// After applies what must survive a restore to the restored data in app. Every restore path calls
// it exactly once, after the restored database is open and migrated and before the restore is
// reported done; an error puts the previous data back. It applies the account erasure ledger
// (kept outside the data directory, so the restore did not roll it back): an account erased
// after the backup or replica position was taken is erased again. A ledger that is missing or
// unreadable fails the restore rather than bring erased people back.
func After(app core.App, cfg config.Config) error {
	ledger, err := account.LedgerPath(cfg.ErasureLedger, app.DataDir())
	if err != nil {
		return err
	}
	n, err := account.ApplyErasures(app, ledger)
	if err != nil {
		return fmt.Errorf("failed to apply the erasure ledger to the restored data: %w", err)
	}
	if n > 0 {
		app.Logger().Info("Erased again the accounts the ledger lists", "accounts", n, "ledger", ledger)
	}
	return nil
}

// Database file names PocketBase and Litestream keep in the data directory.
const (
	DataDB = "data.db"
	// LitestreamMeta is Litestream's local state for data.db (phaseflow/replica); it describes the
	// database it was made from, so a restore moves it aside with that database.
	LitestreamMeta = ".data.db-litestream"
)

// stagePrefix names the private stage directories inside the data directory.
const stagePrefix = ".phaseflow_restore_"

// Scope says which entries of the data directory a restore replaces.
type Scope int

const (
	// Everything replaces every entry of the data directory (a backup archive holds data.db,
	// auxiliary.db and storage/), except backups/, the lock and PocketBase's temporary and
	// certificate directories.
	Everything Scope = iota
	// Database replaces only data.db (and its WAL, shared-memory file and Litestream state): a
	// replica holds data.db alone, so the request logs and uploaded files stay.
	Database
)

// kept are the data directory entries a restore never moves.
var kept = []string{
	core.LocalBackupsDirName, core.LocalTempDirName, core.LocalNotifyDirName, core.LocalAutocertCacheDirName, "lost+found", datadir.LockFile,
}

// Stage is a restore in progress: the exclusive lock on the data directory and a private
// directory inside it, where the new content is prepared (New) and the previous content is kept
// until the restore succeeded.
type Stage struct {
	app     core.App
	lock    *datadir.Lock
	dir     string
	keepDir bool
}

// Begin starts a restore of app's data directory. It fails with datadir.ErrInUse while a server
// or replicator runs on it; nothing has changed then.
func Begin(app core.App) (*Stage, error) {
	lock, err := datadir.Exclusive(app.DataDir())
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(app.DataDir(), stagePrefix+"*") // 0700
	if err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("failed to create the restore stage: %w", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "new"), 0o700); err != nil {
		_ = os.RemoveAll(dir)
		_ = lock.Release()
		return nil, fmt.Errorf("failed to create the restore stage: %w", err)
	}
	return &Stage{app: app, lock: lock, dir: dir}, nil
}

// Path returns a path for a scratch file inside the stage (a downloaded or decrypted archive).
func (s *Stage) Path(name string) string { return filepath.Join(s.dir, name) }

// New is the directory whose entries become the data directory's: an extracted archive, or a
// restored data.db.
func (s *Stage) New() string { return filepath.Join(s.dir, "new") }

// Close removes the stage and releases the lock. When a failed restore could not put the
// previous data back, the stage (with it) is kept and its path is in the error Replace returned.
func (s *Stage) Close() error {
	var err error
	if !s.keepDir {
		err = os.RemoveAll(s.dir)
	}
	return errors.Join(err, s.lock.Release())
}

// Replace swaps the data directory's content (of scope) for the content of New, then reopens the
// app on it, applies the migrations and runs After. Check the new database (CheckDatabase) before
// calling it. On any failure the previous content is put back and the app reopened on it.
func (s *Stage) Replace(cfg config.Config, scope Scope) error {
	dataDir := s.app.DataDir()
	oldDir := filepath.Join(s.dir, "old")
	if err := os.Mkdir(oldDir, 0o700); err != nil {
		return fmt.Errorf("failed to prepare the restore: %w", err)
	}
	incoming, err := entries(s.New())
	if err != nil {
		return err
	}
	if err := tighten(s.New()); err != nil {
		return err
	}

	// The app's own connections must be closed before their files move (closing the last one
	// also folds the -wal file into the database and removes it and the -shm file).
	if err := s.app.ClearBootstrap(); err != nil {
		return fmt.Errorf("failed to close the current database: %w", err)
	}
	var movedOut, movedIn []string
	revert := func(cause error) error {
		_ = s.app.ClearBootstrap()
		var errs []error
		for _, name := range movedIn {
			errs = append(errs, os.Rename(filepath.Join(dataDir, name), filepath.Join(s.New(), name)))
		}
		for _, name := range movedOut {
			errs = append(errs, os.Rename(filepath.Join(oldDir, name), filepath.Join(dataDir, name)))
		}
		if err := errors.Join(errs...); err != nil {
			s.keepDir = true
			return fmt.Errorf("%w; putting the previous data back also failed (%w): it is in %s", cause, err, oldDir)
		}
		if err := s.app.Bootstrap(); err != nil {
			return fmt.Errorf("%w; the previous data is back in place but failed to open: %w", cause, err)
		}
		return fmt.Errorf("%w; the previous data is back in place", cause)
	}
	outgoing, err := s.outgoing(scope)
	if err != nil {
		return revert(err)
	}
	for _, name := range outgoing {
		if err := os.Rename(filepath.Join(dataDir, name), filepath.Join(oldDir, name)); err != nil {
			return revert(fmt.Errorf("failed to move %s aside: %w", name, err))
		}
		movedOut = append(movedOut, name)
	}
	for _, name := range incoming {
		if err := os.Rename(filepath.Join(s.New(), name), filepath.Join(dataDir, name)); err != nil {
			return revert(fmt.Errorf("failed to move the restored %s in: %w", name, err))
		}
		movedIn = append(movedIn, name)
	}

	if err := s.app.Bootstrap(); err != nil {
		return revert(fmt.Errorf("failed to open the restored data: %w", err))
	}
	if err := s.app.RunAllMigrations(); err != nil {
		return revert(fmt.Errorf("failed to migrate the restored data: %w", err))
	}
	if err := After(s.app, cfg); err != nil {
		return revert(fmt.Errorf("failed to apply what must survive a restore: %w", err))
	}
	return nil
}

// outgoing lists the data directory entries a restore of scope moves aside.
func (s *Stage) outgoing(scope Scope) ([]string, error) {
	all, err := entries(s.app.DataDir())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range all {
		if slices.Contains(kept, name) || strings.HasPrefix(name, stagePrefix) {
			continue
		}
		if scope == Database && name != DataDB && name != DataDB+"-wal" && name != DataDB+"-shm" && name != LitestreamMeta {
			continue
		}
		out = append(out, name)
	}
	return out, nil
}

func entries(dir string) ([]string, error) {
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", dir, err)
	}
	var names []string
	for _, e := range list {
		if slices.Contains(kept, e.Name()) {
			continue // an archive holding these must not replace the live ones
		}
		names = append(names, e.Name())
	}
	return names, nil
}

// tighten makes the restored content readable by its owner only (0700 directories, 0600 files):
// it is health data, whatever modes the archive recorded.
func tighten(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		mode := fs.FileMode(0o600)
		if d.IsDir() {
			mode = 0o700
		}
		return os.Chmod(path, mode)
	})
}

// ErrBadDatabase wraps every reason CheckDatabase refuses a database.
var ErrBadDatabase = errors.New("the restored data.db is not a sound PocketBase database")

// CheckDatabase opens the SQLite file at path read-only and refuses it (ErrBadDatabase) unless
// PRAGMA integrity_check answers ok and it has PocketBase's _collections, _params and _migrations
// tables.
func CheckDatabase(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%w: %w", ErrBadDatabase, err)
	}
	path, err := filepath.Abs(path) // a relative path would read as the URI's authority
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadDatabase, err)
	}
	// immutable: the staged file is private to this process and read once, so no locking and
	// no -wal or -shm files next to it.
	dsn := (&url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&immutable=1"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadDatabase, err)
	}
	defer db.Close()

	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check(10)")
	if err != nil {
		return fmt.Errorf("%w: integrity check failed to run: %w", ErrBadDatabase, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return fmt.Errorf("%w: %w", ErrBadDatabase, err)
		}
		problems = append(problems, line)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("%w: integrity check failed: %w", ErrBadDatabase, err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return fmt.Errorf("%w: integrity check reports %s", ErrBadDatabase, strings.Join(problems, "; "))
	}

	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_collections', '_params', '_migrations')").Scan(&n)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadDatabase, err)
	}
	if n != 3 {
		return fmt.Errorf("%w: it has no PocketBase tables", ErrBadDatabase)
	}
	return nil
}
