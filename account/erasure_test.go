package account_test

import (
	"maps"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"phaseflow/account"
	"phaseflow/audit"
	"phaseflow/internal/apptest"
	"phaseflow/users"
)

// TestErasureSurvivesARestoreOfAnOlderCopy: an account deleted after a backup was taken stays
// deleted when that backup is restored. The backup is a real copy of the SQLite database (VACUUM
// INTO, a consistent snapshot as a backup tool takes); the restored server starts on a copy of it
// with the same ledger.
func TestErasureSurvivesARestoreOfAnOlderCopy(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AuthRateLimit = 1000
	cfg.ErasureLedger = filepath.Join(t.TempDir(), "erasures")
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	_, token := srv.FillAccount(t, ana)
	srv.FillAccount(t, bob)
	anaBefore := apptest.AccountRows(t, srv.App, ana.Id, ana.Email())
	bobBefore := apptest.AccountRows(t, srv.App, bob.Id, bob.Email())

	backup := t.TempDir()
	if _, err := srv.App.DB().NewQuery("VACUUM INTO {:path}").Bind(map[string]any{"path": filepath.Join(backup, "data.db")}).Execute(); err != nil {
		t.Fatalf("failed to copy the database: %v", err)
	}

	res := srv.Do(t, http.MethodDelete, "/api/user", map[string]string{"confirmEmail": "ana@example.com"}, apptest.Auth(token))
	if res.Status != http.StatusNoContent {
		t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
	}

	restored := apptest.StartFrom(t, cfg, backup, func(app *tests.TestApp) {
		// Before the start: the older copy still holds the account, every row of it.
		if got := apptest.AccountRows(t, app, ana.Id, ana.Email()); !maps.Equal(got, anaBefore) {
			t.Fatalf("expected the backup to hold Ana's rows %v, got %v", anaBefore, got)
		}
	})

	t.Run("the start erased the account again, every row of it", func(t *testing.T) {
		for col, n := range apptest.AccountRows(t, restored.App, ana.Id, ana.Email()) {
			if n != 0 {
				t.Fatalf("expected no %s rows of Ana after the restore, got %d", col, n)
			}
		}
		res := restored.Do(t, http.MethodPost, "/api/collections/users/auth-with-password",
			map[string]string{"identity": "ana@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusBadRequest {
			t.Fatalf("expected Ana's sign-in to fail, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("another account came back whole", func(t *testing.T) {
		if got := apptest.AccountRows(t, restored.App, bob.Id, bob.Email()); !maps.Equal(got, bobBefore) {
			t.Fatalf("expected Bob's rows %v, got %v", bobBefore, got)
		}
	})
	t.Run("the repeat is audited anonymously and not listed twice", func(t *testing.T) {
		evs := apptest.AuthEvents(t, restored.App, "method = 'account_delete'")
		if len(evs) != 1 || evs[0].GetString(audit.FieldReason) != account.ReasonLedger || evs[0].GetString(audit.FieldUser) != "" {
			t.Fatalf("expected one anonymised ledger row, got %d", len(evs))
		}
		if entries, err := account.ReadLedger(cfg.ErasureLedger); err != nil || len(entries) != 1 || entries[0].ID != ana.Id {
			t.Fatalf("expected the ledger to list Ana once, got %+v %v", entries, err)
		}
	})
	t.Run("applying the ledger again changes nothing", func(t *testing.T) {
		before := apptest.UsersSnapshot(t, restored.App)
		n, err := account.ApplyErasures(restored.App, cfg.ErasureLedger)
		if err != nil || n != 0 {
			t.Fatalf("expected 0 erased, got %d %v", n, err)
		}
		if apptest.UsersSnapshot(t, restored.App) != before || len(apptest.AuthEvents(t, restored.App, "method = 'account_delete'")) != 1 {
			t.Fatal("a second application changed the data")
		}
		if _, err := restored.App.FindRecordById(users.Collection, bob.Id); err != nil {
			t.Fatalf("expected Bob to stay: %v", err)
		}
	})
}

// TestErasedBeforeReadsTheAudit: the start asks the database whether accounts were erased, to
// refuse a missing ledger where they were.
func TestErasedBeforeReadsTheAudit(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	srv := apptest.Start(t, cfg)
	if erased, err := account.ErasedBefore(srv.App); err != nil || erased {
		t.Fatalf("expected no erasure on a new database, got %v %v", erased, err)
	}
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	if err := account.Delete(srv.App, ana, account.ReasonOwner); err != nil {
		t.Fatal(err)
	}
	if erased, err := account.ErasedBefore(srv.App); err != nil || !erased {
		t.Fatalf("expected the erasure found, got %v %v", erased, err)
	}
}
