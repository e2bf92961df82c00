package e2e

import (
	"strings"
	"testing"
)

// TestBrowserPageAddress: a page opened on another host name than APP_URL's goes to APP_URL's
// before any sign-in, and a trailing slash picks the same page as without it, on a load and in
// the front end's own navigation.
func TestBrowserPageAddress(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)

	t.Run("localhost goes to APP_URL's host with the same path and query", func(t *testing.T) {
		tab := newTab(t)
		tab.navigate(strings.Replace(closed.URL, "127.0.0.1", "localhost", 1) + "/settings?tab=devices")
		tab.waitLocation("/login?next=/settings%3Ftab%3Ddevices")
		if origin := mustEval[string](tab, `location.origin`); origin != closed.URL {
			t.Fatalf("expected APP_URL's origin %s, got %s", closed.URL, origin)
		}
		tab.waitFor("the sign-in page", `document.querySelector("#password-form")`)
	})

	t.Run("/login/ and /settings/ are /login and /settings", func(t *testing.T) {
		email := "slash@example.com"
		createUser(t, closed, email, false)
		tab := newTab(t)
		tab.navigate(closed.URL + "/login/?next=/settings/")
		tab.waitLocation("/login?next=/settings/")
		tab.submitPassword(email)
		tab.waitLocation("/settings")
		tab.waitSignedInAs(email)

		tab.navigate(closed.URL + "/")
		tab.waitFor("the home page", `document.querySelector("h1")?.textContent !== "" && location.pathname === "/"`)
		// In-app navigation (history) to a path with a trailing slash.
		mustEval[bool](tab, `(() => { history.pushState(null, "", "/settings/"); dispatchEvent(new PopStateEvent("popstate")); return true; })()`)
		tab.waitLocation("/settings")
		tab.waitSignedInAs(email)
	})
}
