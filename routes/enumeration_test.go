package routes_test

import (
	"net/http"
	"sort"
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
			ip := "127.0.3." + itoa(1+len(k)+len(u))
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

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// checkClose fails when the medians differ by more than a factor of two and more than 1 ms:
// generous against noise, far below the gap of an answer that skips the work.
func checkClose(t *testing.T, what string, known, unknown time.Duration) {
	t.Helper()
	t.Logf("%s: median %v for a known address, %v for an unknown one", what, known, unknown)
	hi, lo := max(known, unknown), min(known, unknown)
	if hi-lo > time.Millisecond && hi > 2*lo {
		t.Fatalf("%s: the time tells known (%v) from unknown (%v) addresses", what, known, unknown)
	}
}

// The tests below compare medians of 30 requests each; they run alone (not in parallel) so other
// tests do not add noise to one side.

func TestEmailCodeRequestTakesAsLongForUnknownAddresses(t *testing.T) {
	srv := apptest.Start(t, apptest.Config(t))
	// PocketBase hashes a new code for the first 10 live codes of an account, then reuses the
	// last: three accounts keep every known request below that, doing the full work.
	for _, email := range []string{"ana@example.com", "bob@example.com", "cem@example.com"} {
		apptest.CreateUser(t, srv.App, email)
	}
	i := 0
	known, unknown := timeBoth(t, srv, 30, func(ip string, isKnown bool) apptest.Response {
		i++
		email := []string{"nobody1@example.com", "nobody2@example.com", "nobody3@example.com"}[i%3]
		if isKnown {
			email = []string{"ana@example.com", "bob@example.com", "cem@example.com"}[i%3]
		}
		return srv.DoFrom(t, ip, "POST", "/api/collections/users/request-otp", map[string]string{"email": email}, nil)
	})
	checkClose(t, "request-otp", known, unknown)
}

func TestPasswordResetRequestTakesAsLongForUnknownAddresses(t *testing.T) {
	srv := apptest.Start(t, apptest.Config(t))
	apptest.CreateUser(t, srv.App, "ana@example.com")
	known, unknown := timeBoth(t, srv, 30, func(ip string, isKnown bool) apptest.Response {
		email := "nobody@example.com"
		if isKnown {
			email = "ana@example.com"
		}
		return srv.DoFrom(t, ip, "POST", "/api/collections/users/request-password-reset", map[string]string{"email": email}, nil)
	})
	checkClose(t, "request-password-reset", known, unknown)
}

func TestSignupRequestTakesAsLongForTakenAddresses(t *testing.T) {
	srv := openRegistration(t)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	i := 0
	known, unknown := timeBoth(t, srv, 30, func(ip string, isKnown bool) apptest.Response {
		i++
		email := "free" + itoa(i) + "@example.com"
		if isKnown {
			email = "ana@example.com"
		}
		return srv.DoFrom(t, ip, "POST", "/api/signup", map[string]string{"email": email}, nil)
	})
	checkClose(t, "signup", known, unknown)
}

func TestEmailChangeToATakenAddressAnswersLikeAFreeOne(t *testing.T) {
	srv := apptest.Start(t, manySignIns(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	apptest.CreateUser(t, srv.App, "bob@example.com")
	auth := apptest.Auth(apptest.Token(t, srv.App, ana))
	before := apptest.UsersSnapshot(t, srv.App)
	i := 0
	known, unknown := timeBoth(t, srv, 30, func(ip string, isKnown bool) apptest.Response {
		i++
		email := "free" + itoa(i) + "@example.com"
		if isKnown {
			email = "BOB@example.com"
		}
		res := srv.DoFrom(t, ip, "POST", "/api/collections/users/request-email-change", map[string]string{"newEmail": email}, auth)
		if res.Status != http.StatusNoContent {
			t.Fatalf("expected 204 for %s, got %d: %s", email, res.Status, res.Body)
		}
		return res
	})
	checkClose(t, "request-email-change", known, unknown)
	if apptest.UsersSnapshot(t, srv.App) != before {
		t.Fatal("an email-change request changed an account")
	}
}
