// Command scale measures PhaseFlow at a size: it builds a throwaway data dir with N accounts and
// M audit rows through the app's own migrations (rows copied from templates the app wrote, in one
// transaction), serves it with the real binary, and reports in one run:
//
//   - cold start (exec to a healthy /api/health);
//   - GET /api/user and PocketBase's record view of the same account, requests/s;
//   - password sign-ins/s next to the raw bcrypt compare rate of the same hash on all cores;
//   - the reminders job with nobody due and with 1% due (console mailer);
//   - the cleanup job deleting the M expired audit rows while a sign-in loop runs, with the loop's
//     p99 next to its p99 without the deletion;
//   - the server's peak RSS.
//
// Everything listens on 127.0.0.1; every loop is bounded in time. Sign-ins come from several
// 127.0.1.x source addresses, as many clients would, so one client's sign-in budget is not the
// bottleneck. Run it with `make bench-scale` (flags: go run ./bench/scale -h).
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
	"golang.org/x/crypto/bcrypt"

	"phaseflow/audit"
	"phaseflow/cycle"
	_ "phaseflow/migrations"
	"phaseflow/users"
)

const (
	password   = "bench-scale-password"
	cronSecret = "bench-scale-cron-secret-0123456789abcdef"
	// signInAddrs is how many client addresses the sign-in loops use (127.0.1.1 …).
	signInAddrs = 32
	port        = "18391"
	base        = "http://127.0.0.1:" + port
)

// zones are the accounts' time zones, in turn.
var zones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles", "Asia/Kolkata"}

func main() {
	appBin := flag.String("app", "./app", "the PhaseFlow binary")
	accounts := flag.Int("accounts", 100_000, "accounts in the data dir")
	events := flag.Int("events", 1_000_000, "expired auth_events rows in the data dir")
	duration := flag.Duration("duration", 5*time.Second, "length of each load run")
	rounds := flag.Int("rounds", 3, "load runs per endpoint (the median is reported)")
	keep := flag.Bool("keep", false, "keep the data dir")
	flag.Parse()
	log.SetFlags(0)

	work, err := os.MkdirTemp("", "phaseflow-scale-")
	check(err)
	if *keep {
		log.Printf("data dir kept in %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin, err := filepath.Abs(*appBin)
	check(err)
	data := filepath.Join(work, "pb_data")

	fmt.Printf("PhaseFlow scale benchmark: %d accounts, %d audit rows, %d cores, %s RAM, %s\n",
		*accounts, *events, runtime.NumCPU(), memTotal(), time.Now().UTC().Format(time.RFC3339))
	start := time.Now()
	userID, eventRow := build(data, *accounts, *events)
	fmt.Printf("data dir built in %.1f s (data.db %s)\n", time.Since(start).Seconds(), fileSize(filepath.Join(data, "data.db")))

	env := serverEnv(work)
	var colds []float64
	for range 3 {
		s := serve(bin, data, env, filepath.Join(work, "cold.log"))
		colds = append(colds, s.ready.Seconds()*1000)
		s.stop()
	}
	fmt.Printf("cold start: %.0f ms (median of 3: %s)\n", median(colds), join(colds, "%.0f"))

	srv := serve(bin, data, env, filepath.Join(work, "server.log"))
	defer srv.stop()

	clients := signInClients()
	token := signIn(clients[0], "user000000@bench.example")

	// Reads: PhaseFlow's profile next to PocketBase's record view of the same account.
	userURL, viewURL := base+"/api/user", base+"/api/collections/users/records/"+userID
	var own, view []float64
	local := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for range *rounds {
		own = append(own, rps(local, userURL, token, 8, *duration))
		view = append(view, rps(local, viewURL, token, 8, *duration))
	}
	fmt.Printf("GET /api/user: %.0f req/s (%s); record view: %.0f req/s (%s); ratio %.2fx (target >= 2x)\n",
		median(own), join(own, "%.0f"), median(view), join(view, "%.0f"), median(own)/median(view))

	// Sign-in next to the bcrypt limit of the same hash on every core.
	hash := storedHash(data)
	compares := bcryptRate(hash, *duration)
	signIns := signInRate(clients, *accounts, 2*runtime.NumCPU(), 2**duration)
	cost, _ := bcrypt.Cost(hash)
	fmt.Printf("sign-in: %.1f/s with %d clients; bcrypt compare (cost %d, %d goroutines): %.1f/s; ratio %.2fx (target >= 0.9x)\n",
		signIns, 2*runtime.NumCPU(), cost, runtime.NumCPU(), compares, signIns/compares)

	// Reminders: nobody due, then 1% due.
	var idle []float64
	for range 3 {
		r := cron(local, "notifications")
		idle = append(idle, float64(r.DurationMs))
		if r.Sent != 0 {
			log.Fatalf("expected nobody due, got %+v", r)
		}
	}
	fmt.Printf("reminders, nobody due: %.0f ms (median of 3: %s; target <= 50 ms)\n", median(idle), join(idle, "%.0f"))
	due := makeDue(data, 100)
	r := cron(local, "notifications")
	fmt.Printf("reminders, 1%% due: %d sent of %d due in %d ms (%.0f mails/s; the scan alone costs the nobody-due time)\n",
		r.Sent, due, r.DurationMs, float64(r.Sent)/(float64(r.DurationMs)/1000))
	if r.Sent != due {
		log.Fatalf("expected %d reminders sent, got %+v", due, r)
	}

	// Retention: the sign-in loop's p99 alone, then while the cleanup deletes the expired rows.
	// The loop alone runs as long as the deletion did, so both have as many samples.
	for _, conc := range []int{1, runtime.NumCPU()} {
		var cleanup cronResult
		began := time.Now()
		during := latencies(clients, *accounts, conc, func() { cleanup = cron(local, "cleanup") })
		took := time.Since(began)
		alone := latencies(clients, *accounts, conc, func() { time.Sleep(took) })
		fmt.Printf("sign-in with %d client(s): p50/p99 %.0f/%.0f ms alone (%d sign-ins), %.0f/%.0f ms while cleanup deleted %d rows in %.1f s (%d sign-ins); p99 ratio %.2fx (target <= 1.5x)\n",
			conc, pct(alone, 50), pct(alone, 99), len(alone), pct(during, 50), pct(during, 99), cleanup.Processed,
			float64(cleanup.DurationMs)/1000, len(during), pct(during, 99)/pct(alone, 99))
		if conc == 1 {
			refill(data, eventRow, *events) // the second pass deletes as many rows again
		}
	}
	fmt.Printf("server peak RSS: %s\n", peakRSS(srv.cmd.Process.Pid))
}

// build creates the data dir through the app's migrations and fills it: n accounts (one written
// by PocketBase with its password hash, the rest copied from it) and m audit rows older than any
// retention. It returns the first account's id and the audit row template.
func build(data string, n, m int) (string, dbx.Params) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: data})
	check(app.Bootstrap())
	check(app.RunAllMigrations())

	// The load comes from 127.0.0.1: PocketBase's general rate limiter stays out of the reads.
	s := app.Settings()
	s.RateLimits.ExcludedIPs = []string{"127.0.0.1"}
	check(app.Save(s))

	col, err := app.FindCollectionByNameOrId(users.Collection)
	check(err)
	first := core.NewRecord(col)
	first.SetEmail("user000000@bench.example")
	first.SetPassword(password)
	first.SetVerified(true)
	first.Set(users.FieldApproved, true)
	check(app.Save(first))
	check(audit.Write(app, audit.Event{Method: audit.MethodPassword, Outcome: audit.OutcomeFailure, Reason: "bench",
		Collection: col.Id, Identity: "user000000@bench.example", IP: "127.0.0.1", UserAgent: "bench"}))

	userRow := template(app, users.Collection)
	eventRow := template(app, audit.Collection)
	_, err = app.DB().NewQuery("DELETE FROM {{" + audit.Collection + "}}").Execute()
	check(err)
	check(app.ClearBootstrap())

	// The rows go in through one prepared statement per table, in one transaction.
	db := openDB(data)
	defer db.Close()
	_, err = db.Exec("PRAGMA synchronous = OFF") // a throwaway data dir
	check(err)
	tx, err := db.Begin()
	check(err)
	_, err = tx.Exec("DELETE FROM users WHERE id = ?", first.Id) // the template, written by PocketBase
	check(err)
	insertUser := prepare(tx, users.Collection, userRow)
	now := time.Now()
	last := cycle.Date{Year: now.Year(), Month: now.Month(), Day: 1}
	for i := range n {
		tz := zones[i%len(zones)]
		at := fmt.Sprintf("%02d:%02d", (i/60)%24, i%60)
		p := cycle.Profile{CycleLength: 28, LastPeriodDate: &last, Timezone: tz, NotificationTime: at}
		loc, err := time.LoadLocation(tz)
		check(err)
		today := cycle.DateOf(now.In(loc)).String()
		rem, _, err := cycle.NextReminder(p, today, now) // reminded today: nobody is due
		check(err)
		row := clone(userRow)
		row["id"] = fmt.Sprintf("u%014d", i)
		row[core.FieldNameEmail] = fmt.Sprintf("user%06d@bench.example", i)
		row[core.FieldNameTokenKey] = fmt.Sprintf("bench-token-key-%034d", i)
		row[users.FieldCycleLength] = 28
		row[users.FieldLastPeriodDate] = last.In(time.UTC).Format(types.DefaultDateLayout)
		row[users.FieldTimezone] = tz
		row[users.FieldNotificationTime] = at
		row[users.FieldLastNotifiedOn] = today
		row[users.FieldNextReminderAt] = rem.At.UTC().Format(types.DefaultDateLayout)
		insertUser(row)
	}
	insertEvents(tx, eventRow, 0, m, now.AddDate(0, 0, -400))
	check(tx.Commit())
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	check(err)
	return "u00000000000000", eventRow
}

// prepare returns an insert of rows shaped like tmpl into table, through one prepared statement.
func prepare(tx *sql.Tx, table string, tmpl dbx.Params) func(dbx.Params) {
	cols := slices.Sorted(maps.Keys(tmpl))
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	stmt, err := tx.Prepare("INSERT INTO " + table + " (" + strings.Join(quoted, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")")
	check(err)
	args := make([]any, len(cols))
	return func(row dbx.Params) {
		for i, c := range cols {
			args[i] = row[c]
		}
		_, err := stmt.Exec(args...)
		check(err)
	}
}

// insertEvents copies the audit row template m times, with ids from offset and times before old.
func insertEvents(tx *sql.Tx, tmpl dbx.Params, offset, m int, old time.Time) {
	insert := prepare(tx, audit.Collection, tmpl)
	for i := offset; i < offset+m; i++ {
		row := clone(tmpl)
		row["id"] = fmt.Sprintf("e%014d", i)
		row[audit.FieldUser] = ""
		row[audit.FieldCreated] = old.Add(-time.Duration(i) * time.Second).UTC().Format(types.DefaultDateLayout)
		insert(row)
	}
}

// refill puts m expired audit rows back (the cleanup deleted them), beside the running server.
func refill(data string, tmpl dbx.Params, m int) {
	db := openDB(data)
	defer db.Close()
	tx, err := db.Begin()
	check(err)
	insertEvents(tx, tmpl, 10_000_000, m, time.Now().AddDate(0, 0, -400))
	check(tx.Commit())
}

// template reads the one row of table as column values.
func template(app core.App, table string) dbx.Params {
	row := dbx.NullStringMap{}
	check(app.DB().NewQuery("SELECT * FROM {{" + table + "}} LIMIT 1").One(row))
	out := dbx.Params{}
	for k, v := range row {
		if v.Valid {
			out[k] = v.String
		} else {
			out[k] = nil
		}
	}
	return out
}

func clone(p dbx.Params) dbx.Params {
	out := make(dbx.Params, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// makeDue makes every every-th account due now (not reminded today, its time already passed
// today in its zone) and reports how many.
func makeDue(data string, every int) int {
	db := openDB(data)
	defer db.Close()
	res, err := db.Exec(fmt.Sprintf(`UPDATE users SET notificationTime = '00:00', lastNotifiedOn = '',
		nextReminderAt = '2000-01-01 00:00:00.000Z' WHERE rowid %% %d = 0`, every))
	check(err)
	n, err := res.RowsAffected()
	check(err)
	return int(n)
}

func openDB(data string) *sql.DB {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "data.db")+"?_pragma=busy_timeout(10000)")
	check(err)
	return db
}

func storedHash(data string) []byte {
	db := openDB(data)
	defer db.Close()
	var h string
	check(db.QueryRow("SELECT password FROM users WHERE email = 'user000000@bench.example'").Scan(&h))
	return []byte(h)
}

func serverEnv(work string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"APP_URL=" + base, "CRON_SECRET=" + cronSecret, "AUTH_RATE_LIMIT=1000",
		"POCKETBASE_ADMIN_EMAIL=scale@bench.example", "POCKETBASE_ADMIN_PASSWORD=bench-scale-admin-password",
		"ERASURE_LEDGER=" + filepath.Join(work, "erasures.ledger"),
	}
}

type server struct {
	cmd   *exec.Cmd
	ready time.Duration
	log   *os.File
}

// serve starts the binary on data and waits for /api/health.
func serve(bin, data string, env []string, logPath string) *server {
	f, err := os.Create(logPath)
	check(err)
	cmd := exec.Command(bin, "serve", "--dir", data, "--http", "127.0.0.1:"+port)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	start := time.Now()
	check(cmd.Start())
	c := &http.Client{Timeout: time.Second}
	for time.Since(start) < 30*time.Second {
		if res, err := c.Get(base + "/api/health"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return &server{cmd: cmd, ready: time.Since(start), log: f}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	log.Fatalf("the server did not start; its log is %s", logPath)
	return nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
	_ = s.log.Close()
}

// signInClients returns one HTTP client per sign-in source address.
func signInClients() []*http.Client {
	out := make([]*http.Client, signInAddrs)
	for i := range out {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i+1))}}
		out[i] = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 8}}
	}
	return out
}

// signIn signs email in with the password and returns the token.
func signIn(c *http.Client, email string) string {
	body, _ := json.Marshal(map[string]string{"identity": email, "password": password})
	res, err := c.Post(base+"/api/collections/users/auth-with-password", "application/json", bytes.NewReader(body))
	check(err)
	defer res.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Token == "" {
		log.Fatalf("sign-in of %s failed: %d %s", email, res.StatusCode, raw)
	}
	return out.Token
}

// rps runs conc loops of GET url for d and reports successful requests/s; any other answer stops
// the benchmark.
func rps(c *http.Client, url, token string, conc int, d time.Duration) float64 {
	var n atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				req.Header.Set("Authorization", token)
				res, err := c.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					log.Fatalf("GET %s: %v", url, err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					log.Fatalf("GET %s: %d", url, res.StatusCode)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// bcryptRate is how many compares of hash per second all cores do.
func bcryptRate(hash []byte, d time.Duration) float64 {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.NumCPU() {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
					log.Fatal(err)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// signInOnce signs account i in from its own source address and reports the latency.
func signInOnce(clients []*http.Client, i int) time.Duration {
	email := fmt.Sprintf("user%06d@bench.example", i)
	body, _ := json.Marshal(map[string]string{"identity": email, "password": password})
	start := time.Now()
	res, err := clients[i%len(clients)].Post(base+"/api/collections/users/auth-with-password", "application/json", bytes.NewReader(body))
	check(err)
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		log.Fatalf("sign-in of %s: %d", email, res.StatusCode)
	}
	return time.Since(start)
}

// signInRate is the sign-ins/s of conc loops over d, each sign-in to the next account.
func signInRate(clients []*http.Client, accounts, conc int, d time.Duration) float64 {
	var next, n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				signInOnce(clients, int(next.Add(1))%accounts)
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// latencies runs conc sign-in loops while work runs and returns their latencies in ms.
func latencies(clients []*http.Client, accounts, conc int, work func()) []float64 {
	var (
		mu   sync.Mutex
		out  []float64
		done atomic.Bool
		wg   sync.WaitGroup
		next atomic.Int64
	)
	next.Store(int64(accounts / 2))
	for range conc {
		wg.Go(func() {
			for !done.Load() {
				d := signInOnce(clients, int(next.Add(1))%accounts)
				mu.Lock()
				out = append(out, float64(d.Microseconds())/1000)
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // the loops are running when the work starts
	work()
	done.Store(true)
	wg.Wait()
	return out
}

type cronResult struct {
	Job        string `json:"job"`
	Processed  int    `json:"processed"`
	Sent       int    `json:"sent"`
	DurationMs int64  `json:"durationMs"`
}

// cron runs job on the server through POST /api/cron/{job}.
func cron(c *http.Client, job string) cronResult {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/cron/"+job, nil)
	req.Header.Set("Authorization", "Bearer "+cronSecret)
	res, err := c.Do(req)
	check(err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out cronResult
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		log.Fatalf("cron %s: %d %s", job, res.StatusCode, raw)
	}
	return out
}

func median(xs []float64) float64 { return pct(xs, 50) }

// pct is the p-th percentile of xs (nearest rank).
func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func join(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, ", ")
}

func peakRSS(pid int) string {
	return procField("/proc/"+strconv.Itoa(pid)+"/status", "VmHWM:")
}

func memTotal() string { return procField("/proc/meminfo", "MemTotal:") }

func procField(path, name string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err == nil {
				return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
			}
		}
	}
	return "unknown"
}

func fileSize(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.0f MiB", float64(fi.Size())/(1<<20))
}

func check(err error) {
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			log.Fatalf("%v: %s", err, exit.Stderr)
		}
		log.Fatal(err)
	}
}
