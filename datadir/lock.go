// Package datadir guards PocketBase's data directory (pb_data) between processes. ./app serve and
// ./app replicate hold a shared lock on it for as long as they run; a restore takes the lock
// exclusively, so it refuses while either of them runs, and they refuse to start while a restore
// runs.
//
// The lock is an flock(2) on a file inside the directory. The kernel releases it when the
// holding process exits however it exits (a crash or SIGKILL included), so no stale lock is ever
// left behind, unlike a PID file; a TCP probe would miss a server on another address or a
// replicator, which listens nowhere. flock works on local file systems (ext4, xfs, btrfs, tmpfs);
// do not put pb_data on a network file system.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pocketbase/pocketbase/core"
)

// LockFile is the name of the lock file inside the data directory. Backups do not contain it and
// restores leave it in place.
const LockFile = ".phaseflow.lock"

// ErrInUse is returned by Exclusive while a server or replicator holds the data directory.
var ErrInUse = errors.New("the data directory is in use by ./app serve or ./app replicate; stop them first")

// ErrRestoring is returned by Shared while a restore holds the data directory.
var ErrRestoring = errors.New("a restore is running on the data directory; start again when it has finished")

// Lock is a held lock on a data directory.
type Lock struct {
	f *os.File
}

// Shared takes the lock that a running server or replicator holds. Any number of processes may
// hold it together; it fails with ErrRestoring while a restore runs.
func Shared(dir string) (*Lock, error) {
	return lock(dir, syscall.LOCK_SH, ErrRestoring)
}

// Exclusive takes the lock a restore holds. It fails with ErrInUse while anyone else holds the
// lock, shared or exclusive.
func Exclusive(dir string) (*Lock, error) {
	return lock(dir, syscall.LOCK_EX, ErrInUse)
}

func lock(dir string, how int, busy error) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the data directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open the data directory lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, busy
		}
		return nil, fmt.Errorf("failed to lock the data directory: %w", err)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up. Exiting the process does the same.
func (l *Lock) Release() error {
	return l.f.Close() // closing the descriptor releases the flock
}

// HoldWhileServing is an OnServe handler: the server holds the shared lock from its start until
// it terminates, and does not start while a restore runs.
func HoldWhileServing(se *core.ServeEvent) error {
	l, err := Shared(se.App.DataDir())
	if err != nil {
		return err
	}
	se.App.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		_ = l.Release()
		return e.Next()
	})
	return se.Next()
}
