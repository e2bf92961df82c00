package apptest

import (
	"testing"
	"time"
)

// pollInterval is how often Eventually and Never look again.
const pollInterval = 10 * time.Millisecond

// Eventually polls cond until it holds, failing the test with what after timeout. Use it for an
// effect that happens in the background (a mail sent after the response).
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// Never polls cond for the whole window and fails the test as soon as it holds. Use it for an
// effect that must not happen in the background (no mail for an unknown address).
func Never(t testing.TB, window time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(window)
	for time.Now().Before(deadline) {
		if cond() {
			t.Fatalf("expected %s never to happen, but it did", what)
		}
		time.Sleep(pollInterval)
	}
}
