package throttle_test

import (
	"sync"
	"testing"
	"time"

	"phaseflow/internal/apptest"
	"phaseflow/throttle"
)

func TestBudgetOfNamesEveryCredentialEndpoint(t *testing.T) {
	t.Parallel()
	cases := []struct{ method, path, want string }{
		{"POST", "/api/collections/users/auth-with-password", throttle.SignIn},
		{"POST", "/api/collections/_superusers/auth-with-password", throttle.SignIn},
		{"POST", "/api/collections/users/auth-with-otp", throttle.SignIn},
		{"POST", "/api/collections/pbc_123/auth-with-oauth2", throttle.SignIn},
		{"POST", "/api/user/password", throttle.SignIn},
		{"DELETE", "/api/user", throttle.SignIn},
		{"POST", "/api/signup/verify", throttle.SignIn},
		{"POST", "/api/collections/users/request-otp", throttle.Codes},
		{"POST", "/api/collections/users/request-password-reset", throttle.Codes},
		{"POST", "/api/collections/users/request-verification", throttle.Codes},
		{"POST", "/api/collections/users/request-email-change", throttle.Codes},
		{"POST", "/api/collections/users/confirm-email-change", throttle.SignIn},
		{"POST", "/api/collections/users/confirm-password-reset", ""},
		{"POST", "/api/signup", throttle.Codes},
		{"GET", "/api/collections/users/auth-methods", ""},
		{"POST", "/api/collections/users/auth-refresh", ""},
		{"GET", "/api/collections/users/auth-with-password", ""},
		{"PATCH", "/api/user", ""},
		{"POST", "/api/collections/users", ""},
	}
	for _, c := range cases {
		if got := throttle.BudgetOf(c.method, c.path); got != c.want {
			t.Errorf("%s %s: expected %q, got %q", c.method, c.path, c.want, got)
		}
	}
}

func TestTakeIsAFixedWindowPerBudgetAndClient(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := throttle.Take(app, throttle.SignIn, "127.0.0.1", 3, now.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("attempt %d refused inside the limit", i+1)
		}
	}
	ok, wait := throttle.Take(app, throttle.SignIn, "127.0.0.1", 3, now.Add(10*time.Second))
	if ok || wait != 50*time.Second {
		t.Fatalf("expected the 4th attempt refused for the rest of the minute (50s), got %v %v", ok, wait)
	}
	if ok, _ := throttle.Take(app, throttle.Codes, "127.0.0.1", 3, now.Add(10*time.Second)); !ok {
		t.Fatal("expected the code budget to be separate")
	}
	if ok, _ := throttle.Take(app, throttle.SignIn, "127.0.0.2", 3, now.Add(10*time.Second)); !ok {
		t.Fatal("expected another client to have its own budget")
	}
	if ok, _ := throttle.Take(app, throttle.SignIn, "127.0.0.1", 3, now.Add(throttle.Window)); !ok {
		t.Fatal("expected a new window after a minute")
	}
	// Another app (a second test server, say) keeps its own counters.
	other := apptest.NewApp(t, apptest.Config(t))
	if ok, _ := throttle.Take(other, throttle.SignIn, "127.0.0.1", 1, now); !ok {
		t.Fatal("expected counters per app")
	}
}

// TestConcurrentFailuresAreAllCounted: failures from many addresses at once are counted in one
// statement each, so none is lost, and exactly one of them locks.
func TestConcurrentFailuresAreAllCounted(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	key := throttle.AccountKey("_pb_users_auth_", "Ana@Example.com ")
	if key != throttle.AccountKey("_pb_users_auth_", "ana@example.com") {
		t.Fatal("expected the key to ignore case and surrounding space")
	}
	now := time.Now()
	const n = 40
	locks := make(chan throttle.Failure, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			f, err := throttle.RecordFailure(app, key, 1000, now)
			if err != nil {
				t.Error(err)
			}
			locks <- f
		})
	}
	wg.Wait()
	close(locks)
	for f := range locks {
		if !f.LockedUntil.IsZero() {
			t.Fatal("locked below the limit")
		}
	}
	var failures int
	if err := app.DB().NewQuery("SELECT failures FROM auth_locks WHERE key = {:k}").Bind(map[string]any{"k": key}).Row(&failures); err != nil || failures != n {
		t.Fatalf("expected %d failures counted, got %d %v", n, failures, err)
	}

	// At a limit of 50, ten more at once: exactly one locks.
	locked := 0
	var mu sync.Mutex
	for range 10 {
		wg.Go(func() {
			f, err := throttle.RecordFailure(app, key, 50, now)
			if err != nil {
				t.Error(err)
			}
			if !f.LockedUntil.IsZero() {
				mu.Lock()
				locked++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if locked != 1 {
		t.Fatalf("expected exactly one request to lock, got %d", locked)
	}
	// Stored with millisecond precision.
	if until, err := throttle.Locked(app, key, now); err != nil || until.Sub(now) <= throttle.FirstLock-time.Millisecond || until.Sub(now) > throttle.FirstLock {
		t.Fatalf("expected a lock of %v, got %v %v", throttle.FirstLock, until.Sub(now), err)
	}
}

func TestLocksDoubleUpTo24Hours(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	key := throttle.AccountKey("_pb_users_auth_", "bob@example.com")
	now := time.Now()
	want := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
		8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for i, w := range want {
		var f throttle.Failure
		for range 3 {
			var err error
			if f, err = throttle.RecordFailure(app, key, 3, now); err != nil {
				t.Fatal(err)
			}
		}
		if f.Lock != i+1 || f.LockedUntil.Sub(now) != w {
			t.Fatalf("lock %d: expected %v, got lock %d for %v", i+1, w, f.Lock, f.LockedUntil.Sub(now))
		}
		now = f.LockedUntil // the next failures come after the lock ended
	}
	if err := throttle.Clear(app, key); err != nil {
		t.Fatal(err)
	}
	if until, _ := throttle.Locked(app, key, now.Add(-time.Hour)); !until.IsZero() {
		t.Fatal("expected Clear to end the lock")
	}
}

func TestNoMoreThan100FailuresInARowWithoutALock(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	key := throttle.AccountKey("_pb_users_auth_", "slow@example.com")
	now := time.Now()
	// A patient guesser: 9 failures per 15-minute window never reach a limit of 10.
	for i := 1; i <= throttle.MaxConsecutive; i++ {
		at := now.Add(time.Duration(i/9) * (throttle.FailureWindow + time.Second))
		f, err := throttle.RecordFailure(app, key, 10, at)
		if err != nil {
			t.Fatal(err)
		}
		if locked := !f.LockedUntil.IsZero(); locked != (i == throttle.MaxConsecutive) {
			t.Fatalf("failure %d: locked %v", i, locked)
		}
	}
}
