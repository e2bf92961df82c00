package account

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLedgerPath(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name       string
		configured string
		dataDir    string
		want       string
		refused    bool
	}{
		{"the default is next to the data dir", "", "/var/lib/phaseflow/pb_data", "/var/lib/phaseflow/pb_data.erasures", false},
		{"the default of a data dir with a trailing slash", "", "/var/lib/phaseflow/pb_data/", "/var/lib/phaseflow/pb_data.erasures", false},
		{"a configured path outside", "/srv/keep/erasures", "/var/lib/phaseflow/pb_data", "/srv/keep/erasures", false},
		{"a sibling whose name starts like the data dir", "/var/lib/phaseflow/pb_data2/erasures", "/var/lib/phaseflow/pb_data", "/var/lib/phaseflow/pb_data2/erasures", false},
		{"a path inside the data dir", "/var/lib/phaseflow/pb_data/erasures", "/var/lib/phaseflow/pb_data", "", true},
		{"a path deep inside the data dir", "/var/lib/phaseflow/pb_data/backups/erasures", "/var/lib/phaseflow/pb_data", "", true},
		{"a path inside through dot segments", "/var/lib/phaseflow/x/../pb_data/erasures", "/var/lib/phaseflow/pb_data", "", true},
		{"the data dir itself", "/var/lib/phaseflow/pb_data", "/var/lib/phaseflow/pb_data", "", true},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			got, err := LedgerPath(s.configured, s.dataDir)
			if s.refused {
				if err == nil || !strings.Contains(err.Error(), "must be outside the data directory") {
					t.Fatalf("expected a refusal, got %q %v", got, err)
				}
				return
			}
			if err != nil || got != s.want {
				t.Fatalf("expected %q, got %q %v", s.want, got, err)
			}
		})
	}
}

func TestLedgerAppendAndRead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "erasures")
	if err := PrepareLedger(path, never); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("expected a new 0600 ledger, got %v %v", st, err)
	}
	if entries, err := ReadLedger(path); err != nil || len(entries) != 0 {
		t.Fatalf("expected an empty ledger with its header, got %v %v", entries, err)
	}
	at := time.Date(2026, 11, 3, 7, 30, 5, 0, time.FixedZone("CET", 3600))
	for _, id := range []string{"abcdefghijklmno", "pqrstuvwxyz0123"} {
		if err := appendLedger(path, id, at); err != nil {
			t.Fatal(err)
		}
	}
	// Preparing an existing ledger keeps it as it is.
	if err := PrepareLedger(path, never); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(raw), "# PhaseFlow erasure ledger") ||
		!strings.HasSuffix(string(raw), "\n2026-11-03T06:30:05Z abcdefghijklmno\n2026-11-03T06:30:05Z pqrstuvwxyz0123\n") {
		t.Fatalf("unexpected ledger:\n%s", raw)
	}
	entries, err := ReadLedger(path)
	if err != nil || len(entries) != 2 || entries[0].ID != "abcdefghijklmno" || !entries[1].At.Equal(at) {
		t.Fatalf("expected both entries, got %+v %v", entries, err)
	}
}

func TestLedgerRefusesIDsThatWouldCorruptIt(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "erasures")
	for _, id := range []string{"", "two words", "line\nbreak", "tab\tid", strings.Repeat("a", 256)} {
		if err := appendLedger(path, id, time.Now()); !errors.Is(err, ErrLedger) {
			t.Fatalf("expected %q to be refused, got %v", id, err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("expected nothing written, got %v", err)
	}
}

func TestLedgerAfterATornLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "erasures")
	// A crash cut the last append short: its deletion was rolled back.
	if err := os.WriteFile(path, []byte(ledgerHeader+"2026-11-03T06:30:05Z abcdefghijklmno\n2026-11-03T06:3"), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadLedger(path)
	if err != nil || len(entries) != 1 {
		t.Fatalf("expected the torn line ignored, got %+v %v", entries, err)
	}
	if err := appendLedger(path, "pqrstuvwxyz0123", time.Now()); err != nil {
		t.Fatal(err)
	}
	entries, err = ReadLedger(path)
	if err == nil {
		t.Fatalf("expected the torn line, now in the middle, to be reported, got %+v", entries)
	}
	if !strings.Contains(err.Error(), "line 5 of "+path) {
		t.Fatalf("expected the error to name line 5, got %v", err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), "\n2026-11-03T06:3\n") || !strings.HasSuffix(string(raw), " pqrstuvwxyz0123\n") {
		t.Fatalf("expected the new line to start on a line of its own:\n%s", raw)
	}

	// A complete last line whose line break was lost still counts.
	whole := filepath.Join(t.TempDir(), "erasures")
	if err := os.WriteFile(whole, []byte(ledgerHeader+"2026-11-03T06:30:05Z abcdefghijklmno"), 0o600); err != nil {
		t.Fatal(err)
	}
	if entries, err := ReadLedger(whole); err != nil || len(entries) != 1 || entries[0].ID != "abcdefghijklmno" {
		t.Fatalf("expected the unterminated entry, got %+v %v", entries, err)
	}
}

func TestLedgerReadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	if _, err := ReadLedger(missing); !errors.Is(err, ErrLedger) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("expected a missing ledger to be an error, got %v", err)
	}
	for name, content := range map[string]string{
		"a line with one field":  "abcdefghijklmno\n",
		"a line with a bad time": "yesterday abcdefghijklmno\n",
		"a line with three":      "2026-11-03T06:30:05Z abcdefghijklmno extra\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, []byte(ledgerHeader+content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadLedger(path); !errors.Is(err, ErrLedger) || !strings.Contains(err.Error(), "line 4") {
			t.Fatalf("%s: expected an error naming line 4, got %v", name, err)
		}
	}
	if err := PrepareLedger(dir, never); !errors.Is(err, ErrLedger) {
		t.Fatalf("expected a directory to be refused as the ledger, got %v", err)
	}
}

// TestLedgerIsNeverCreatedWhereErasuresHappened: a missing ledger is created at start only when
// the database has no erasure on record, and never when an erasure is appended.
func TestLedgerIsNeverCreatedWhereErasuresHappened(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "erasures")
	if err := PrepareLedger(path, erasedOnce); !errors.Is(err, ErrLedger) || !strings.Contains(err.Error(), "erased accounts before") {
		t.Fatalf("expected the start refused, got %v", err)
	}
	if err := appendLedger(path, "abcdefghijklmno", time.Now()); !errors.Is(err, ErrLedger) {
		t.Fatalf("expected the erasure refused, got %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("expected no ledger created, got %v", err)
	}
	if err := PrepareLedger(path, never); err != nil {
		t.Fatalf("expected a first start to create the ledger, got %v", err)
	}
	// Once it exists, it is kept whatever the database says.
	if err := PrepareLedger(path, erasedOnce); err != nil {
		t.Fatalf("expected an existing ledger accepted, got %v", err)
	}
}

// never and erasedOnce answer ErasedBefore's question for PrepareLedger.
func never() (bool, error)      { return false, nil }
func erasedOnce() (bool, error) { return true, nil }
