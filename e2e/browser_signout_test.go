package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSignOut: sign-out clears localStorage and the cookie, and Back shows /login, not
// private data.
func TestBrowserSignOut(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "logout@example.com"
	createUser(t, closed, email, false)
	tab := newTab(t)
	tab.navigate(closed.URL + "/settings")
	tab.waitLocation("/login?next=/settings")
	tab.submitPassword(email)
	tab.waitLocation("/settings")
	tab.waitSignedInAs(email)

	tab.click("#sign-out")
	tab.waitLocation("/login")
	if mustEval[bool](tab, `localStorage.getItem("pocketbase_auth") !== null`) {
		t.Fatal("localStorage still holds the session")
	}
	if c := tab.sessionCookie(closed); c != nil {
		t.Fatalf("the pb_auth cookie survived sign-out: %q", c.Value)
	}

	tab.run("go back", chromedp.NavigateBack())
	// Whether Chromium reloads the page or restores it from its back/forward cache, the
	// signed-out visit to /settings must end on the sign-in page.
	tab.waitLocation("/login?next=/settings")
	tab.waitFor("the login form after Back", `document.querySelector("#password-form")`)
	if body := tab.bodyText(); strings.Contains(body, email) || strings.Contains(body, "Your cycle") {
		t.Fatalf("Back shows private data: %q", body)
	}
}

// TestBrowserSignOutEverywhere: "sign out of all devices" ends the session in another browser on
// its next request.
func TestBrowserSignOutEverywhere(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "everywhere@example.com"
	createUser(t, closed, email, false)
	first, second := newTab(t), newTab(t)
	first.signIn(closed, email, "/")
	second.signIn(closed, email, "/")
	second.waitFor("today's view", `document.querySelector("#today-title")`)

	first.navigate(closed.URL + "/settings")
	first.click("#sign-out-all")
	first.click("#sign-out-all-confirm-button")
	first.waitLocation("/login")

	// The second browser still holds its (now revoked) token; its next request fails.
	second.click(`.site-header a[href="/settings"]`)
	second.waitLocation("/login?next=/settings")
	if second.storedToken() != "" || second.sessionCookie(closed) != nil {
		t.Fatal("the second browser kept the revoked session")
	}
}
