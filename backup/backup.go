// Package backup is PhaseFlow's side of PocketBase's backups: archives are encrypted with age
// when BACKUP_ENCRYPTION_KEY is set (PrepareArchive, bound to OnBackupCreate, so scheduled,
// admin-UI and command-line backups alike), ./app backup create makes one, and Restore checks an
// archive (decrypts it, opens the zip, finds data.db, runs SQLite's integrity check) before
// phaseflow/restore swaps it in. PocketBase's own in-place restore is refused: it checks
// nothing and would skip restore.After.
//
// What is encrypted: the whole archive (data.db with every account and its cycle data,
// auxiliary.db with the request logs, uploaded files), before it reaches pb_data/backups or S3.
// What is not: the archive's name and size, and the plaintext zip PocketBase writes for a few
// seconds inside pb_data/.pb_temp_to_delete while it builds it (next to the live, unencrypted
// database it copies, so it is no more exposed than that).
package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/archive"
	"github.com/pocketbase/pocketbase/tools/filesystem"

	"phaseflow/config"
	"phaseflow/datadir"
	"phaseflow/replica"
	"phaseflow/restore"
)

// CreatePriority runs PrepareArchive before any other OnBackupCreate handler, around PocketBase's
// own archive and upload.
const CreatePriority = -1000

// PrepareArchive returns the OnBackupCreate handler. It keeps the lock file and Litestream's
// local state out of every archive and, when cfg has an encryption key, makes PocketBase write
// the archive to a private staging directory instead of the backups storage, encrypts it there
// and stores only "<name>.age", so no unencrypted archive reaches pb_data/backups or S3. Local
// archives are made readable by their owner only.
func PrepareArchive(cfg config.Config) func(*core.BackupEvent) error {
	keys, keyErr := ParseKey(cfg.Backup.EncryptionKey)
	return func(e *core.BackupEvent) error {
		e.Exclude = append(e.Exclude, datadir.LockFile, restore.LitestreamMeta)
		if keyErr != nil {
			return keyErr
		}
		app := e.App
		defer func() { e.App = app }()
		if cfg.Replica.Enabled() {
			// The archive's checkpoint must not wait out the replicator's read transaction.
			e.App = replica.PassiveCheckpoints(app)
		}
		if !keys.Encrypts() {
			if err := e.Next(); err != nil {
				return err
			}
			return protectLocal(app, e.Name)
		}

		tempDir := filepath.Join(e.App.DataDir(), core.LocalTempDirName)
		if err := os.MkdirAll(tempDir, 0o700); err != nil {
			return fmt.Errorf("failed to create the backup staging directory: %w", err)
		}
		stage, err := os.MkdirTemp(tempDir, "phaseflow_backup_")
		if err != nil {
			return fmt.Errorf("failed to create the backup staging directory: %w", err)
		}
		defer os.RemoveAll(stage)

		// PocketBase's default handler uploads to e.App.NewBackupsFilesystem(); for the length of
		// the call that is the staging directory.
		e.App = stagingApp{App: e.App, dir: stage}
		err = e.Next()
		e.App = app
		if err != nil {
			return err
		}

		plain := filepath.Join(stage, e.Name)
		encrypted := plain + EncryptedSuffix
		if err := encryptFile(encrypted, plain, keys.Recipient); err != nil {
			return err
		}
		_ = os.Remove(plain)
		if err := upload(e.Context, app, encrypted, e.Name+EncryptedSuffix); err != nil {
			return err
		}
		return protectLocal(app, e.Name+EncryptedSuffix)
	}
}

// stagingApp is app with its backups storage replaced by a local directory.
type stagingApp struct {
	core.App
	dir string
}

// NewBackupsFilesystem returns the staging directory.
func (a stagingApp) NewBackupsFilesystem() (*filesystem.System, error) {
	return filesystem.NewLocal(a.dir)
}

func encryptFile(dst, src string, r age.Recipient) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("failed to open the archive to encrypt: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create the encrypted archive: %w", err)
	}
	if err := Encrypt(out, in, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// upload stores the local file at path in app's backups storage under name.
func upload(ctx context.Context, app core.App, path, name string) error {
	fsys, err := app.NewBackupsFilesystem()
	if err != nil {
		return err
	}
	defer fsys.Close()
	if ctx != nil {
		fsys.SetContext(ctx)
	}
	f, err := filesystem.NewFileFromPath(path)
	if err != nil {
		return err
	}
	f.Name, f.OriginalName = name, name
	if err := fsys.UploadFile(f, name); err != nil {
		return fmt.Errorf("failed to store the encrypted archive: %w", err)
	}
	return nil
}

// protectLocal makes a local archive (and the backups directory) readable by the owner only.
func protectLocal(app core.App, name string) error {
	if app.Settings().Backups.S3.Enabled || name == "" {
		return nil
	}
	dir := filepath.Join(app.DataDir(), core.LocalBackupsDirName)
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, name+".attrs")} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// msgInPlaceRestore explains why PocketBase's own restore (admin UI, POST
// /api/backups/{key}/restore) is off.
const msgInPlaceRestore = "PhaseFlow restores backups with ./app backup restore NAME while the server is stopped: it checks and decrypts the archive first. The in-place restore is switched off."

// ErrInPlaceRestore is what RefuseInPlaceRestore answers.
var ErrInPlaceRestore = errors.New("the in-place restore is switched off: restore with ./app backup restore NAME while the server is stopped")

// RefuseInPlaceRestore is the OnBackupRestore handler: PocketBase's in-place restore would swap an
// unchecked (possibly encrypted) archive under the running server and skip restore.After.
func RefuseInPlaceRestore(e *core.BackupEvent) error {
	return ErrInPlaceRestore
}

// RestoreRequestPattern is the route of PocketBase's in-place restore.
const RestoreRequestPattern = "POST /api/backups/{key}/restore"

// RefuseRestoreRequest is a router middleware that answers PocketBase's in-place restore request
// with 400 and the reason, instead of its 204 followed by a restore that RefuseInPlaceRestore
// stops in the background.
func RefuseRestoreRequest(e *core.RequestEvent) error {
	// Only a superuser learns why; anyone else gets the route's own 401 or 403.
	if e.Request.Pattern == RestoreRequestPattern && e.HasSuperuserAuth() {
		return e.BadRequestError(msgInPlaceRestore, nil)
	}
	return e.Next()
}

// Create makes a backup now, as PocketBase's scheduled job does, and returns the stored name
// (ending in EncryptedSuffix when archives are encrypted).
func Create(ctx context.Context, app core.App, cfg config.Config) (string, error) {
	name := fmt.Sprintf("phaseflow_%s.zip", time.Now().UTC().Format("20060102150405"))
	if err := app.CreateBackup(ctx, name); err != nil {
		return "", fmt.Errorf("failed to create the backup: %w", err)
	}
	if cfg.Backup.EncryptionKey != "" {
		name += EncryptedSuffix
	}
	return name, nil
}

// Info describes a stored backup.
type Info struct {
	Name     string
	Modified time.Time
	Size     int64
}

// List returns the stored backups, newest first.
func List(ctx context.Context, app core.App) ([]Info, error) {
	fsys, err := app.NewBackupsFilesystem()
	if err != nil {
		return nil, fmt.Errorf("failed to open the backups storage: %w", err)
	}
	defer fsys.Close()
	fsys.SetContext(ctx)
	objs, err := fsys.List("")
	if err != nil {
		return nil, fmt.Errorf("failed to list the backups: %w", err)
	}
	var out []Info
	for _, o := range objs {
		out = append(out, Info{Name: o.Key, Modified: o.ModTime, Size: o.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Modified.After(out[j].Modified) })
	return out, nil
}

// ErrNotArchive wraps every reason an archive is refused before anything is changed.
var ErrNotArchive = errors.New("not a usable PhaseFlow backup archive")

// Restore replaces app's data with the backup source: a file path, or the name of a backup in
// the backups storage (pb_data/backups or S3). It refuses while a server or replicator runs on
// the data directory (datadir.ErrInUse); it decrypts an encrypted archive with ids (ErrWrongKey,
// ErrNoIdentity), extracts it, requires data.db and checks it (restore.CheckDatabase) before
// anything is changed; then restore.Stage.Replace swaps it in and runs restore.After.
func Restore(ctx context.Context, app core.App, cfg config.Config, source string, ids []age.Identity) error {
	st, err := restore.Begin(app)
	if err != nil {
		return err
	}
	defer st.Close()

	fetched := st.Path("archive")
	if err := fetch(ctx, app, source, fetched); err != nil {
		return err
	}
	zipPath := fetched
	encrypted, err := IsEncrypted(fetched)
	if err != nil {
		return err
	}
	if encrypted {
		zipPath = st.Path("archive.zip")
		if err := decryptFile(zipPath, fetched, ids); err != nil {
			return err
		}
		_ = os.Remove(fetched)
	}
	if err := archive.Extract(zipPath, st.New()); err != nil {
		return fmt.Errorf("%w: failed to open the zip: %w", ErrNotArchive, err)
	}
	_ = os.Remove(zipPath)
	if _, err := os.Stat(filepath.Join(st.New(), restore.DataDB)); err != nil {
		return fmt.Errorf("%w: the archive has no data.db", ErrNotArchive)
	}
	if err := restore.CheckDatabase(ctx, filepath.Join(st.New(), restore.DataDB)); err != nil {
		return fmt.Errorf("%w: %w", ErrNotArchive, err)
	}
	return st.Replace(cfg, restore.Everything)
}

// fetch copies the backup source to dst: a local file if one exists at that path, else the
// object of that name in the backups storage.
func fetch(ctx context.Context, app core.App, source, dst string) error {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()

	var in io.ReadCloser
	if f, err := os.Open(source); err == nil {
		in = f
	} else if !errors.Is(err, os.ErrNotExist) || strings.ContainsRune(source, os.PathSeparator) {
		return fmt.Errorf("failed to open %s: %w", source, err)
	} else {
		fsys, err := app.NewBackupsFilesystem()
		if err != nil {
			return fmt.Errorf("failed to open the backups storage: %w", err)
		}
		defer fsys.Close()
		fsys.SetContext(ctx)
		r, err := fsys.GetReader(source)
		if err != nil {
			return fmt.Errorf("no file %s here and no backup of that name in the backups storage: %w", source, err)
		}
		in = r
	}
	defer in.Close()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("failed to read the backup: %w", err)
	}
	return out.Close()
}

func decryptFile(dst, src string, ids []age.Identity) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := Decrypt(out, in, ids...); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
