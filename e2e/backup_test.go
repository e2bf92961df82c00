package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newBackupKey runs ./app backup keygen and returns the identity it printed.
func newBackupKey(t *testing.T) string {
	t.Helper()
	out, code := run(t, baseEnv(), "backup", "keygen")
	if code != 0 {
		t.Fatalf("backup keygen: exit %d: %s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "AGE-SECRET-KEY-") {
			return line
		}
	}
	t.Fatalf("expected an identity from backup keygen, got %s", out)
	return ""
}

func TestBackupCreateRestoreSignIn(t *testing.T) {
	t.Parallel()
	key := newBackupKey(t)
	keyEnv := "BACKUP_ENCRYPTION_KEY=" + key
	srv := startServer(t, append(adminEnv, keyEnv)...)
	createUser(t, srv, "backed-up@example.com", false)

	out, code := runIn(t, srv.Dir, baseEnv(keyEnv), "backup", "create")
	name := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if code != 0 || !strings.HasPrefix(name, "phaseflow_") || !strings.HasSuffix(name, ".zip.age") {
		t.Fatalf("expected an encrypted archive name, got %d: %s", code, out)
	}
	archive := filepath.Join(srv.Dir, "pb_data", "backups", name)
	raw, err := os.ReadFile(archive)
	if err != nil || !strings.HasPrefix(string(raw), "age-encryption.org/v1\n") || strings.Contains(string(raw), "backed-up@example.com") {
		t.Fatalf("expected an age file without the user's email, got %v", err)
	}
	if out, code := runIn(t, srv.Dir, baseEnv(keyEnv), "backup", "list"); code != 0 || !strings.Contains(out, name) {
		t.Fatalf("expected backup list to show %s, got %d: %s", name, code, out)
	}

	t.Run("restore is refused while the server runs, and changes nothing", func(t *testing.T) {
		out, code := runIn(t, srv.Dir, baseEnv(keyEnv), "backup", "restore", name)
		if code != 1 || !strings.Contains(out, "the data directory is in use by ./app serve or ./app replicate; stop them first") {
			t.Fatalf("expected exit 1 naming the running server, got %d: %s", code, out)
		}
		signIn(t, srv, "backed-up@example.com")
	})

	// A new machine: the operator copies the erasure ledger over first (README, "Your data").
	fresh := t.TempDir()
	copyLedger(t, srv.Dir, fresh)
	t.Run("a wrong key is refused with a clear message", func(t *testing.T) {
		out, code := runIn(t, fresh, baseEnv("BACKUP_ENCRYPTION_KEY="+newBackupKey(t)), "backup", "restore", archive)
		if code != 1 || !strings.Contains(out, "the archive is encrypted for a different key") {
			t.Fatalf("expected exit 1 about the key, got %d: %s", code, out)
		}
	})
	t.Run("the archive restores into a fresh directory", func(t *testing.T) {
		out, code := runIn(t, fresh, baseEnv(keyEnv), "backup", "restore", archive)
		if code != 0 || !strings.Contains(out, "restored "+archive) {
			t.Fatalf("expected the restore to succeed, got %d: %s", code, out)
		}
	})
	t.Run("a corrupt archive is refused and changes nothing", func(t *testing.T) {
		corrupt := filepath.Join(t.TempDir(), "corrupt.zip")
		if err := os.WriteFile(corrupt, raw[:len(raw)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		out, code := runIn(t, fresh, baseEnv(keyEnv), "backup", "restore", corrupt)
		if code != 1 || !strings.Contains(out, "restore refused or failed: failed to decrypt the archive") {
			t.Fatalf("expected exit 1 about the damaged archive, got %d: %s", code, out)
		}
	})
	t.Run("the restored server signs the user in", func(t *testing.T) {
		restored, err := launchServer(fresh, keyEnv)
		if err != nil {
			t.Fatal(err)
		}
		defer restored.stop()
		signIn(t, restored, "backed-up@example.com")
	})
}
