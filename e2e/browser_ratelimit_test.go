package e2e

import "testing"

// TestBrowserRateLimitMessage: with one sign-in attempt a minute, the second attempt shows a
// readable message instead of PocketBase's, as does the wrong password before it ("Failed to
// authenticate.").
func TestBrowserRateLimitMessage(t *testing.T) {
	t.Parallel()
	limited := startServer(t, "AUTH_RATE_LIMIT=1")
	tab := newTab(t)
	tab.navigate(limited.URL + "/login")
	for _, want := range []string{"The email address or password is wrong.", "Too many attempts. Wait a minute, then try again."} {
		tab.setValue("#password-form input[name=identity]", "nobody@example.com")
		tab.setValue("#password-form input[name=password]", "wrong-password")
		tab.click("#password-form button[type=submit]")
		tab.waitFor("the message "+want, `document.querySelector("[role=alert]")?.textContent === `+jsString(want))
	}
}
