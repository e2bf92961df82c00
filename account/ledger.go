package account

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/audit"
	"phaseflow/users"
)

// The erasure ledger is an append-only text file listing every erased account: one line per
// erasure, "<time, RFC 3339 UTC> <users id>", and no personal data. It lives outside the data
// directory, so that restoring an older backup (a zip of pb_data) or replica (data.db) does not
// roll it back, and ApplyErasures deletes again every account it lists: an erased person never
// comes back with an old copy of the database.

// LedgerSuffix names the default ledger after the data directory: /var/lib/phaseflow/pb_data
// keeps its ledger in /var/lib/phaseflow/pb_data.erasures.
const LedgerSuffix = ".erasures"

// ErrLedger reports that the erasure ledger cannot be read or written. An erasure that cannot be
// recorded is refused, and a start or restore that cannot read the ledger stops.
var ErrLedger = errors.New("the erasure ledger is unavailable")

// ledgerHeader starts every new ledger, for the operator who opens it.
const ledgerHeader = "# PhaseFlow erasure ledger, format 1: one erased account per line, \"<time, RFC 3339 UTC> <users id>\".\n" +
	"# No personal data. Keep it outside pb_data, back it up on its own, and never replace it with an older copy\n" +
	"# (a merge of copies, sort -u, is safe). Every account listed here is deleted again at each start and restore.\n"

// idPattern is what a ledger line's id may hold: PocketBase's record ids, and never a space or a
// line break that would corrupt the file.
var idPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,255}$`)

// ledgerMu serialises appends within the process (every append also runs inside a SQLite write
// transaction, which serialises them across processes).
var ledgerMu sync.Mutex

// Erasure is one line of the ledger.
type Erasure struct {
	ID string
	At time.Time
}

// LedgerPath returns the erasure ledger of the data directory dataDir: configured
// (ERASURE_LEDGER) when set, else dataDir + LedgerSuffix next to it. A path inside the data
// directory is refused: a restore would roll it back with the data.
func LedgerPath(configured, dataDir string) (string, error) {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("failed to resolve the data directory: %w", err)
	}
	path := configured
	if path == "" {
		path = dir + LedgerSuffix
	}
	path, err = filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("failed to resolve the erasure ledger: %w", err)
	}
	if rel, err := filepath.Rel(dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("ERASURE_LEDGER (%s) must be outside the data directory %s: restoring a backup or replica would roll it back", path, dir)
	}
	return path, nil
}

// PrepareLedger makes sure the ledger at path can be appended to. It is called at every start,
// so that a ledger that cannot be written stops the server instead of refusing every erasure
// later. A missing ledger is created (mode 0600, with its header) only when no account was
// erased before (erasedBefore, ErasedBefore of the app, asked only then): on a first install or
// an upgrade. Where
// accounts were erased, a missing ledger was lost or not copied to this machine, and starting
// with a new one would let a restore bring those people back, so the start stops and says so.
func PrepareLedger(path string, erasedBefore func() (bool, error)) error {
	ledgerMu.Lock()
	defer ledgerMu.Unlock()
	f, err := openLedger(path, false)
	if errors.Is(err, fs.ErrNotExist) {
		erased, checkErr := erasedBefore()
		if checkErr != nil {
			return checkErr
		}
		if erased {
			return fmt.Errorf("%w: %s is missing, but this database has erased accounts before; "+
				"copy the ledger back from the old server or your backups (only if it is lost for good, create it empty)", ErrLedger, path)
		}
		f, err = openLedger(path, true)
	}
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: %w", ErrLedger, err)
	}
	return nil
}

// ErasedBefore reports whether the database of app records an erasure: an anonymised
// account_delete row, kept for AUTH_EVENTS_RETENTION_DAYS.
func ErasedBefore(app core.App) (bool, error) {
	var ids []string
	// Literal values, so SQLite can use the partial index on these rows (idx_auth_events_erasures).
	err := app.DB().Select("id").From(audit.Collection).Where(dbx.NewExp(
		"[[" + audit.FieldMethod + "]] = '" + audit.MethodAccountDelete + "' AND [[" + audit.FieldOutcome + "]] = '" + audit.OutcomeSuccess + "'",
	)).Limit(1).Column(&ids)
	if err != nil {
		return false, fmt.Errorf("failed to look for earlier erasures: %w", err)
	}
	return len(ids) > 0, nil
}

// openLedger opens the ledger for appending, writing its header, synced to disk with its
// directory entry, when it is empty or (with create) missing.
func openLedger(path string, create bool) (*os.File, error) {
	flags := os.O_RDWR | os.O_APPEND
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLedger, err)
	}
	st, err := f.Stat()
	if err == nil && st.Size() == 0 {
		if _, err = f.WriteString(ledgerHeader); err == nil {
			err = f.Sync()
		}
		if err == nil {
			err = syncDir(filepath.Dir(path))
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrLedger, err)
	}
	return f, nil
}

// appendLedger records the erasure of id at at, and returns only once the line is on disk.
func appendLedger(path, id string, at time.Time) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%w: the account id %q cannot be recorded", ErrLedger, id)
	}
	ledgerMu.Lock()
	defer ledgerMu.Unlock()
	// Never created here: a ledger that went missing while the server ran would start again
	// without the erasures it held.
	f, err := openLedger(path, false)
	if err != nil {
		return err
	}
	line := at.UTC().Format(time.RFC3339) + " " + id + "\n"
	// A line cut short by a crash must not swallow this one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	_, err = f.WriteString(line)
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLedger, err)
	}
	return nil
}

// syncDir makes a new file's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if closeErr := d.Close(); err == nil {
		err = closeErr
	}
	return err
}

// ReadLedger returns the erasures the ledger at path lists, in file order. Comments (#) and blank
// lines are skipped, and so is a last line cut short by a crash (an append that never completed,
// whose deletion was rolled back); any other line that is not "<time> <id>" is an error naming
// it. A missing ledger is an error too: a restore on a machine without its ledger would bring
// erased accounts back (create an empty file if no account was ever deleted).
func ReadLedger(path string) ([]Erasure, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist; copy it from the previous server, or create an empty file there if no account was ever deleted: %w",
			ErrLedger, path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLedger, err)
	}
	var out []Erasure
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, ok := parseLedgerLine(line)
		if !ok {
			if isLastUnterminated(raw, n) {
				break
			}
			return nil, fmt.Errorf("%w: line %d of %s is not \"<time> <account id>\"; correct or remove it", ErrLedger, n, path)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLedger, err)
	}
	return out, nil
}

func parseLedgerLine(line string) (Erasure, bool) {
	f := strings.Fields(line)
	if len(f) != 2 || !idPattern.MatchString(f[1]) {
		return Erasure{}, false
	}
	at, err := time.Parse(time.RFC3339, f[0])
	if err != nil {
		return Erasure{}, false
	}
	return Erasure{ID: f[1], At: at}, true
}

// isLastUnterminated reports whether line n (1-based) is the file's last and has no line break.
func isLastUnterminated(raw []byte, n int) bool {
	return !bytes.HasSuffix(raw, []byte("\n")) && bytes.Count(raw, []byte("\n")) == n-1
}

// applyBatch bounds the ids looked up per query.
const applyBatch = 500

// ApplyErasures deletes again every account the ledger at ledgerPath lists that the database of
// app holds, with the same cascade as the first time (Erase, bound by PhaseFlow's hooks, runs on
// each deletion), and returns how many it deleted. It is idempotent: on a database that lists no
// erased account it deletes nothing. Every start calls it after the migrations, and every restore
// of a backup or replica must call it once the restored database is open and migrated. A ledger
// that cannot be read is an error (ErrLedger), and then nothing was deleted.
func ApplyErasures(app core.App, ledgerPath string) (int, error) {
	entries, err := ReadLedger(ledgerPath)
	if err != nil {
		return 0, err
	}
	seen := make(map[string]bool, len(entries))
	var ids []any
	for _, e := range entries {
		if !seen[e.ID] {
			seen[e.ID] = true
			ids = append(ids, e.ID)
		}
	}
	ctx := withDeletion(context.Background(), deletion{reason: ReasonLedger, listed: true})
	erased := 0
	for start := 0; start < len(ids); start += applyBatch {
		batch := ids[start:min(start+applyBatch, len(ids))]
		recs, err := app.FindAllRecords(users.Collection, dbx.In(core.FieldNameId, batch...))
		if err != nil {
			return erased, fmt.Errorf("failed to look up the erased accounts: %w", err)
		}
		for _, r := range recs {
			if err := app.DeleteWithContext(ctx, r); err != nil {
				return erased, fmt.Errorf("failed to erase account %s again: %w", r.Id, err)
			}
			erased++
		}
	}
	if erased > 0 {
		app.Logger().Warn("Erased accounts again that the erasure ledger lists: the data was restored from an older copy",
			"erased", erased, "listed", len(ids), "ledger", ledgerPath)
	} else {
		app.Logger().Info("Applied the erasure ledger", "erased", 0, "listed", len(ids), "ledger", ledgerPath)
	}
	return erased, nil
}
