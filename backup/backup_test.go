package backup_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/account"
	"phaseflow/backup"
	"phaseflow/config"
	"phaseflow/datadir"
	"phaseflow/internal/apptest"
	"phaseflow/restore"
	"phaseflow/settings"
	"phaseflow/users"
)

// Identities made for these tests.
const (
	testIdentity  = "AGE-SECRET-KEY-1H6RKE25AUUTPY2Y4JCHK498VNWZR8KDNDMDLS7TRQ5V3W5RYXMGQYSPLEA"
	testRecipient = "age19ny5cg0rqw62em9gd0g2hr6xgswas6fs2p2xjl82my8a8shn95wsq5r3yu"
	otherIdentity = "AGE-SECRET-KEY-PQ-16HT4CYE5D2NCDSJAN8TPA8DRG5WLFHJ2X4RSLHHEHL8EP3HVQSCQK5VN09"
)

// userEmail is a marker that is in data.db: an unencrypted archive holds it as plain bytes.
const userEmail = "ana.backup@example.com"

// source starts a server with one user and returns it.
func source(t *testing.T, cfg config.Config) *apptest.Server {
	t.Helper()
	srv := apptest.Start(t, cfg)
	apptest.CreateUser(t, srv.App, userEmail)
	return srv
}

// localArchive is the path of a backup in app's pb_data/backups.
func localArchive(app core.App, name string) string {
	return filepath.Join(app.DataDir(), core.LocalBackupsDirName, name)
}

// identities parses an age identity for Restore.
func identities(t *testing.T, s string) []age.Identity {
	t.Helper()
	k, err := backup.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return []age.Identity{k.Identity}
}

// restoreAndSignIn restores archive into a fresh app, serves it and signs the user in.
func restoreAndSignIn(t *testing.T, cfg config.Config, source string, ids []age.Identity) {
	t.Helper()
	dst := apptest.NewApp(t, cfg)
	settings.ApplyBackups(dst.Settings(), cfg) // as ./app backup restore does, for a name in S3
	if err := backup.Restore(t.Context(), dst, cfg, source, ids); err != nil {
		t.Fatalf("restore: %v", err)
	}
	srv := apptest.Serve(t, dst, cfg)
	srv.SignIn(t, userEmail, "backup test")
	info, err := os.Stat(filepath.Join(dst.DataDir(), restore.DataDB))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("expected the restored data.db readable by its owner only, got %v %v", info.Mode(), err)
	}
}

func TestBackupRestoreSignIn(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	src := source(t, cfg)
	name, err := backup.Create(t.Context(), src.App, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, "phaseflow_") || !strings.HasSuffix(name, ".zip") {
		t.Fatalf("expected a phaseflow_*.zip name, got %q", name)
	}
	path := localArchive(src.App, name)
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("expected an unencrypted zip without a key, got %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	for _, unwanted := range []string{datadir.LockFile, restore.LitestreamMeta} {
		for _, n := range names {
			if strings.HasPrefix(n, unwanted) {
				t.Fatalf("expected %s kept out of the archive, got %v", unwanted, names)
			}
		}
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("expected the archive readable by its owner only, got %v", info.Mode())
	}

	restoreAndSignIn(t, cfg, path, nil)
}

func TestEncryptedBackup(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.Backup.EncryptionKey = testIdentity
	src := source(t, cfg)
	name, err := backup.Create(t.Context(), src.App, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(name, ".zip.age") {
		t.Fatalf("expected an .age name, got %q", name)
	}
	dir := filepath.Join(src.App.DataDir(), core.LocalBackupsDirName)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".age") && !strings.HasSuffix(e.Name(), ".age.attrs") {
			t.Fatalf("expected only encrypted archives in pb_data/backups, got %s", e.Name())
		}
	}
	raw, err := os.ReadFile(localArchive(src.App, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) || bytes.Contains(raw, []byte(userEmail)) {
		t.Fatal("expected an age file without the user's email in it")
	}
	tmp, _ := os.ReadDir(filepath.Join(src.App.DataDir(), core.LocalTempDirName))
	if len(tmp) != 0 {
		t.Fatalf("expected no staged archive left behind, got %d entries", len(tmp))
	}

	t.Run("the right identity restores it and the user signs in", func(t *testing.T) {
		t.Parallel()
		restoreAndSignIn(t, apptest.Config(t), localArchive(src.App, name), identities(t, testIdentity))
	})
	t.Run("a server configured with the recipient only encrypts to the same key", func(t *testing.T) {
		t.Parallel()
		cfg := apptest.Config(t)
		cfg.Backup.EncryptionKey = testRecipient
		other := source(t, cfg)
		name, err := backup.Create(t.Context(), other.App, cfg)
		if err != nil {
			t.Fatal(err)
		}
		restoreAndSignIn(t, apptest.Config(t), localArchive(other.App, name), identities(t, testIdentity))
	})

	refusals := []struct {
		name string
		ids  []age.Identity
		want error
		msg  string
	}{
		{"a wrong key is refused with a clear message", identities(t, otherIdentity), backup.ErrWrongKey,
			"the archive is encrypted for a different key: BACKUP_ENCRYPTION_KEY (or --identity) is not the identity it was encrypted to"},
		{"no key is refused with a clear message", nil, backup.ErrNoIdentity,
			"the archive is encrypted: set BACKUP_ENCRYPTION_KEY to its age identity (AGE-SECRET-KEY-…) or pass --identity FILE"},
	}
	// One destination for every refusal: each must leave it as it was.
	dst := apptest.NewApp(t, apptest.Config(t))
	apptest.CreateUser(t, dst, "kept@example.com")
	before := apptest.UsersSnapshot(t, dst)
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			err := backup.Restore(t.Context(), dst, apptest.Config(t), localArchive(src.App, name), r.ids)
			if !errors.Is(err, r.want) || err.Error() != r.msg {
				t.Fatalf("expected %q, got %v", r.msg, err)
			}
			if after := apptest.UsersSnapshot(t, dst); after != before {
				t.Fatal("expected the refused restore to change nothing")
			}
			assertNoStage(t, dst)
		})
	}
}

// assertNoStage fails when a restore left its stage in the data directory.
func assertNoStage(t *testing.T, app core.App) {
	t.Helper()
	entries, _ := os.ReadDir(app.DataDir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".phaseflow_restore_") {
			t.Fatalf("expected no restore stage left, got %s", e.Name())
		}
	}
}

func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	src := source(t, cfg)
	name, err := backup.Create(t.Context(), src.App, cfg)
	if err != nil {
		t.Fatal(err)
	}
	good := localArchive(src.App, name)

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zipOf := func(files map[string][]byte) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for n, data := range files {
			f, _ := w.Create(n)
			f.Write(data)
		}
		w.Close()
		return b.Bytes()
	}
	goodDB := func() []byte {
		zr, err := zip.OpenReader(good)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if f.Name == restore.DataDB {
				rc, _ := f.Open()
				defer rc.Close()
				var b bytes.Buffer
				b.ReadFrom(rc)
				return b.Bytes()
			}
		}
		t.Fatal("no data.db in the archive")
		return nil
	}()
	corrupt := bytes.Clone(goodDB)
	// Keep the 100-byte header and the first page (the schema), garble the b-tree pages after it.
	for i := 4096; i < len(corrupt); i += 7 {
		corrupt[i] ^= 0x5a
	}
	notPocketBase := write("plain.db", nil)

	scenarios := []struct {
		name    string
		archive string
		want    string
	}{
		{"a file that is not a zip", write("random.zip", []byte("this is not a zip archive")),
			"not a usable PhaseFlow backup archive: failed to open the zip: zip: not a valid zip file"},
		{"a zip without data.db", write("empty.zip", zipOf(map[string][]byte{"auxiliary.db": []byte("x")})),
			"not a usable PhaseFlow backup archive: the archive has no data.db"},
		{"a zip whose data.db fails the integrity check", write("corrupt.zip", zipOf(map[string][]byte{restore.DataDB: corrupt})),
			"not a usable PhaseFlow backup archive: the restored data.db is not a sound PocketBase database: integrity check failed to run: database disk image is malformed"},
		{"a zip with an SQLite database that is not PocketBase's", write("other.zip", zipOf(map[string][]byte{restore.DataDB: mustEmptySQLite(t, notPocketBase)})),
			"not a usable PhaseFlow backup archive: the restored data.db is not a sound PocketBase database: it has no PocketBase tables"},
		{"a name that is neither a file nor a stored backup", "nosuch_backup.zip",
			"no file nosuch_backup.zip here and no backup of that name in the backups storage"},
	}
	// One destination for every refusal: each must leave it as it was.
	dst := apptest.NewApp(t, apptest.Config(t))
	apptest.CreateUser(t, dst, "kept@example.com")
	before := apptest.UsersSnapshot(t, dst)
	for _, s := range scenarios {
		t.Run(s.name+" is refused and changes nothing", func(t *testing.T) {
			err := backup.Restore(t.Context(), dst, apptest.Config(t), s.archive, nil)
			if err == nil || !strings.HasPrefix(err.Error(), s.want) {
				t.Fatalf("expected an error starting %q, got %v", s.want, err)
			}
			if after := apptest.UsersSnapshot(t, dst); after != before {
				t.Fatal("expected the refused restore to change nothing")
			}
			assertNoStage(t, dst)
		})
	}

	t.Run("a restore is refused while the server runs and changes nothing", func(t *testing.T) {
		// The source server is still serving: it holds its data directory.
		before := apptest.UsersSnapshot(t, src.App)
		err := backup.Restore(t.Context(), src.App, apptest.Config(t), good, nil)
		if !errors.Is(err, datadir.ErrInUse) {
			t.Fatalf("expected %v, got %v", datadir.ErrInUse, err)
		}
		if after := apptest.UsersSnapshot(t, src.App); after != before {
			t.Fatal("expected the refused restore to change nothing")
		}
	})
}

// mustEmptySQLite writes a valid SQLite database with one unrelated table to path and returns it.
func mustEmptySQLite(t *testing.T, path string) []byte {
	t.Helper()
	// An SQLite file: PocketBase's own connector creates one with its pragmas.
	db, err := core.DefaultDBConnect(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewQuery("CREATE TABLE notes (body TEXT)").Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewQuery("PRAGMA journal_mode = DELETE").Execute(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestS3Backups(t *testing.T) {
	t.Parallel()
	s3 := apptest.StartS3(t, "phaseflow-backups")
	cfg := apptest.Config(t)
	cfg.Backup.S3 = s3.Config("phaseflow-backups")
	cfg.Backup.EncryptionKey = testIdentity
	src := source(t, cfg) // serving applies BACKUP_S3_* to PocketBase's settings
	name, err := backup.Create(t.Context(), src.App, cfg)
	if err != nil {
		t.Fatal(err)
	}
	keys := s3.Keys(t, "phaseflow-backups")
	if len(keys) != 1 || keys[0] != name {
		t.Fatalf("expected exactly the encrypted archive %s in the bucket, got %v", name, keys)
	}
	obj := s3.Object(t, "phaseflow-backups", name)
	if !bytes.HasPrefix(obj, []byte("age-encryption.org/v1\n")) || bytes.Contains(obj, []byte(userEmail)) {
		t.Fatal("expected an age file in the bucket, without the user's email")
	}
	if entries, _ := os.ReadDir(filepath.Join(src.App.DataDir(), core.LocalBackupsDirName)); len(entries) != 0 {
		t.Fatalf("expected nothing in pb_data/backups with S3, got %d entries", len(entries))
	}
	list, err := backup.List(t.Context(), src.App)
	if err != nil || len(list) != 1 || list[0].Name != name {
		t.Fatalf("expected List to show %s, got %+v %v", name, list, err)
	}

	t.Run("a fresh data directory restores it by name from the bucket", func(t *testing.T) {
		restoreAndSignIn(t, cfg, name, identities(t, testIdentity))
	})
}

func TestInPlaceRestoreIsRefused(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	srv := source(t, cfg)
	name, err := backup.Create(t.Context(), srv.App, cfg)
	if err != nil {
		t.Fatal(err)
	}
	su := apptest.CreateSuperuser(t, srv.App, "root@example.com")
	before := apptest.UsersSnapshot(t, srv.App)

	res := srv.Do(t, "POST", "/api/backups/"+name+"/restore", nil, apptest.Auth(apptest.Token(t, srv.App, su)))
	if res.Status != 400 || res.JSON(t)["message"] != "PhaseFlow restores backups with ./app backup restore NAME while the server is stopped: it checks and decrypts the archive first. The in-place restore is switched off." {
		t.Fatalf("expected 400 with the reason, got %d: %s", res.Status, res.Body)
	}
	if res := srv.Do(t, "POST", "/api/backups/"+name+"/restore", nil, nil); res.Status != 401 {
		t.Fatalf("expected a guest to get the route's own 401, got %d", res.Status)
	}
	if err := srv.App.RestoreBackup(t.Context(), name); !errors.Is(err, backup.ErrInPlaceRestore) {
		t.Fatalf("expected %v from a restore in code, got %v", backup.ErrInPlaceRestore, err)
	}
	if after := apptest.UsersSnapshot(t, srv.App); after != before {
		t.Fatal("expected nothing changed")
	}
}

// TestRestoreErasesAgainWhatTheLedgerLists: an account deleted after a backup was taken stays
// deleted when that backup is restored (restore.After applies the erasure ledger, which lives
// outside the data directory), and a restore without its ledger is refused and changes nothing.
func TestRestoreErasesAgainWhatTheLedgerLists(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	src := source(t, cfg)
	apptest.CreateUser(t, src.App, "kept.backup@example.com")
	name, err := backup.Create(t.Context(), src.App, cfg)
	if err != nil {
		t.Fatal(err)
	}
	erased, err := src.App.FindAuthRecordByEmail(users.Collection, userEmail)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.App.Delete(erased); err != nil {
		t.Fatal(err)
	}

	// The restore target: a new machine (not serving) with the same ledger.
	dst := apptest.NewApp(t, cfg)
	t.Run("without its ledger the restore is refused", func(t *testing.T) {
		noLedger := cfg
		noLedger.ErasureLedger = filepath.Join(t.TempDir(), "missing")
		before := apptest.UsersSnapshot(t, dst)
		err := backup.Restore(t.Context(), dst, noLedger, localArchive(src.App, name), nil)
		if !errors.Is(err, account.ErrLedger) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("expected the missing ledger named, got %v", err)
		}
		if apptest.UsersSnapshot(t, dst) != before {
			t.Fatal("a refused restore changed the accounts")
		}
	})

	if err := backup.Restore(t.Context(), dst, cfg, localArchive(src.App, name), nil); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if _, err := dst.FindRecordById(users.Collection, erased.Id); err == nil {
		t.Fatal("the restored backup brought the erased account back")
	}
	if _, err := dst.FindAuthRecordByEmail(users.Collection, "kept.backup@example.com"); err != nil {
		t.Fatalf("expected the other account restored, got %v", err)
	}
}
