package routes_test

import (
	"net/http"
	"sort"
	"strconv"
	"testing"
	"time"

	"phaseflow/internal/apptest"
)

// median of durations.
func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// timeBoth sends n requests for a known and n for an unknown address, alternating, from a fresh
// client address each time (so no budget interferes), and returns each side's median time and
// the answers.
func timeBoth(t *testing.T, srv *apptest.Server, n int, send func(ip string, known bool) apptest.Response) (known, unknown time.Duration) {
	t.Helper()
	var k, u []time.Duration
	var firstKnown, firstUnknown *apptest.Response
	for i := 0; i < n; i++ {
		for _, isKnown := range []bool{true, false} {
			ip := "127.0.3." + strconv.Itoa(1+len(k)+len(u))
			start := time.Now()
			res := send(ip, isKnown)
			d := time.Since(start)
			if isKnown {
				k = append(k, d)
				if firstKnown == nil {
					firstKnown = &res
				}
			} else {
				u = append(u, d)
				if firstUnknown == nil {
					firstUnknown = &res
				}
			}
		}
	}
	if firstKnown.Status != firstUnknown.Status || len(firstKnown.Body) != len(firstUnknown.Body) {
		t.Fatalf("the answers differ: %d %s vs %d %s", firstKnown.Status, firstKnown.Body, firstUnknown.Status, firstUnknown.Body)
	}
	return median(k), median(u)
}

// timeRounds is how many times sameTime measures before it calls a gap real: a machine busy with
// other tests can slow one side of a round, but not the same side of every round.
const timeRounds = 3

// sameTime measures known and unknown addresses (timeBoth, n = 30) and fails when the medians
// differ by more than a factor of two and more than 1 ms in every one of timeRounds rounds:
// generous against noise, far below the gap of an answer that skips the work, which shows in
// every round.
func sameTime(t *testing.T, what string, srv *apptest.Server, send func(ip string, known bool) apptest.Response) {
	t.Helper()
	for round := 1; round <= timeRounds; round++ {
		known, unknown := timeBoth(t, srv, 30, send)
		t.Logf("%s, round %d: median %v for a known address, %v for an unknown one", what, round, known, unknown)
		hi, lo := max(known, unknown), min(known, unknown)
		if hi-lo <= time.Millisecond || hi <= 2*lo {
			return
		}
	}
	t.Fatalf("%s: in %d rounds the time told known from unknown addresses", what, timeRounds)
}

// The tests below compare medians of 30 requests each (up to timeRounds times); they run alone (not in parallel) so other
// tests do not add noise to one side.

func TestEmailCodeRequestTakesAsLongForUnknownAddresses(t *testing.T) {
	srv := apptest.Start(t, apptest.Config(t))
	// PocketBase hashes a new code for the first 10 live codes of an account, then reuses the
	// last: three accounts per round keep every known request below that, doing the full work.
	n := 3 * timeRounds
	for k := range n {
		apptest.CreateUser(t, srv.App, "known"+strconv.Itoa(k)+"@example.com")
	}
	i := 0
	sameTime(t, "request-otp", srv, func(ip string, isKnown bool) apptest.Response {
		i++
		email := "nobody" + strconv.Itoa(i%n) + "@example.com"
		if isKnown {
			email = "known" + strconv.Itoa(i%n) + "@example.com"
		}
		return srv.DoFrom(t, ip, "POST", "/api/collections/users/request-otp", map[string]string{"email": email}, nil)
	})
}

func TestPasswordResetRequestTakesAsLongForUnknownAddresses(t *testing.T) {
	srv := apptest.Start(t, apptest.Config(t))
	apptest.CreateUser(t, srv.App, "ana@example.com")
	sameTime(t, "request-password-reset", srv, func(ip string, isKnown bool) apptest.Response {
		email := "nobody@example.com"
		if isKnown {
			email = "ana@example.com"
		}
		return srv.DoFrom(t, ip, "POST", "/api/collections/users/request-password-reset", map[string]string{"email": email}, nil)
	})
}

func TestSignupRequestTakesAsLongForTakenAddresses(t *testing.T) {
	srv := openRegistration(t)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	i := 0
	sameTime(t, "signup", srv, func(ip string, isKnown bool) apptest.Response {
		i++
		email := "free" + strconv.Itoa(i) + "@example.com"
		if isKnown {
			email = "ana@example.com"
		}
		return srv.DoFrom(t, ip, "POST", "/api/signup", map[string]string{"email": email}, nil)
	})
}

func TestEmailChangeToATakenAddressAnswersLikeAFreeOne(t *testing.T) {
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	apptest.CreateUser(t, srv.App, "bob@example.com")
	auth := apptest.Auth(apptest.Token(t, srv.App, ana))
	before := apptest.UsersSnapshot(t, srv.App)
	i := 0
	sameTime(t, "request-email-change", srv, func(ip string, isKnown bool) apptest.Response {
		i++
		email := "free" + strconv.Itoa(i) + "@example.com"
		if isKnown {
			email = "BOB@example.com"
		}
		res := srv.DoFrom(t, ip, "POST", "/api/collections/users/request-email-change", map[string]string{"newEmail": email}, auth)
		if res.Status != http.StatusNoContent {
			t.Fatalf("expected 204 for %s, got %d: %s", email, res.Status, res.Body)
		}
		return res
	})
	if apptest.UsersSnapshot(t, srv.App) != before {
		t.Fatal("an email-change request changed an account")
	}
}
