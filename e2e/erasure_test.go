package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"phaseflow/client"
)

// TestErasureLedgerOnTheBinary: the served binary keeps its erasure ledger next to pb_data, and
// an account deleted after a copy of pb_data was taken stays deleted when that copy is put back
// (an operator restoring an older backup by hand) and the server starts again.
func TestErasureLedgerOnTheBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	email := "restored@example.com"

	first, err := launchServer(dir, adminEnv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.stop) // stopping twice is harmless
	createUser(t, first, email, false)
	first.stop()
	// The older backup: pb_data as it was, the account in it.
	backup := filepath.Join(t.TempDir(), "pb_data")
	if out, err := exec.Command("cp", "-a", filepath.Join(dir, "pb_data"), backup).CombinedOutput(); err != nil {
		t.Fatalf("copy pb_data: %v %s", err, out)
	}

	second, err := launchServer(dir, adminEnv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.stop)
	api := signIn(t, second, email)
	if err := api.DeleteAccount(t.Context(), email, ""); err != nil {
		t.Fatalf("delete the account: %v", err)
	}
	second.stop()
	ledgerPath := filepath.Join(dir, "pb_data.erasures")
	ledger, err := os.ReadFile(ledgerPath)
	if err != nil || strings.Count(string(ledger), "\n") < 4 {
		t.Fatalf("expected the header and one erasure in pb_data.erasures, got %q %v", ledger, err)
	}
	// A data directory that has erased accounts does not start without its ledger: a new, empty
	// one would let a restore bring them back.
	if err := os.Rename(ledgerPath, ledgerPath+".aside"); err != nil {
		t.Fatal(err)
	}
	out, code := runIn(t, dir, baseEnv(adminEnv...), "serve", "--http", "127.0.0.1:0")
	if code == 0 || !strings.Contains(out, "is missing, but this database has erased accounts before") {
		t.Fatalf("expected the start to stop without the ledger, got %d: %s", code, out)
	}
	if _, err := os.Stat(ledgerPath); !os.IsNotExist(err) {
		t.Fatalf("expected no new ledger, got %v", err)
	}
	if err := os.Rename(ledgerPath+".aside", ledgerPath); err != nil {
		t.Fatal(err)
	}

	// The restore: the older pb_data replaces the current one; the ledger next to it stays.
	if err := os.RemoveAll(filepath.Join(dir, "pb_data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(backup, filepath.Join(dir, "pb_data")); err != nil {
		t.Fatal(err)
	}
	if !dataFilesContain(t, dir, email) {
		t.Fatal("expected the restored copy to hold the account (the check would not be meaningful)")
	}

	third, err := launchServer(dir, adminEnv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(third.stop)
	if ids := findUsers(t, third, email); len(ids) != 0 {
		t.Fatalf("expected the restored account to be erased again at start, got %v", ids)
	}
	if _, err := mustClient(t, third).AuthWithPassword(t.Context(), email, userPassword); client.StatusCode(err) != http.StatusBadRequest {
		t.Fatalf("expected the sign-in to fail with 400, got %v", err)
	}
}

// TestServeRefusesABadErasureLedger: a relative path is a configuration error (exit 2); a ledger
// inside the data dir, which a restore would roll back, or one that cannot be written stops the
// start with a sentence naming ERASURE_LEDGER.
func TestServeRefusesABadErasureLedger(t *testing.T) {
	t.Parallel()
	out, code := run(t, baseEnv("ERASURE_LEDGER=erasures"), "serve", "--http", "127.0.0.1:0")
	if code != 2 || !strings.Contains(out, "ERASURE_LEDGER: must be an absolute file path") {
		t.Fatalf("expected exit code 2 naming ERASURE_LEDGER, got %d: %s", code, out)
	}

	dir := t.TempDir()
	inside := filepath.Join(dir, "pb_data", "erasures")
	out, code = runIn(t, dir, baseEnv("ERASURE_LEDGER="+inside), "serve", "--http", "127.0.0.1:0")
	if code == 0 || !strings.Contains(out, "must be outside the data directory") {
		t.Fatalf("expected the start to stop for a ledger inside pb_data, got %d: %s", code, out)
	}

	unwritable := t.TempDir() // a directory is no ledger, whoever runs the test (root too)
	out, code = runIn(t, t.TempDir(), baseEnv("ERASURE_LEDGER="+unwritable), "serve", "--http", "127.0.0.1:0")
	if code == 0 || !strings.Contains(out, "failed to open the erasure ledger (ERASURE_LEDGER)") {
		t.Fatalf("expected the start to stop for a ledger that cannot be written, got %d: %s", code, out)
	}
}

// copyLedger copies the erasure ledger of the server run in dir (pb_data.erasures, the default)
// into another working dir, as an operator moving to a new machine does before a restore.
func copyLedger(t *testing.T, dir, to string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "pb_data.erasures"))
	if err != nil {
		t.Fatalf("the server's erasure ledger: %v", err)
	}
	if err := os.WriteFile(filepath.Join(to, "pb_data.erasures"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}
