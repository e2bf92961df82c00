package e2e

import (
	"strings"
	"testing"
	"time"

	"phaseflow/client"
)

// TestBrowserGuardRedirectsForgedAndExpiredCookies: the page guard sends a browser whose pb_auth
// cookie is forged or expired to /login, without private content.
func TestBrowserGuardRedirectsForgedAndExpiredCookies(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	id := createUser(t, closed, "expired@example.com", false)
	// A token the server signed, valid for one second.
	short, err := closed.superuser(t).Impersonate(t.Context(), id, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	expired := short.Token()
	parts := strings.Split(expired, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	eventually(t, "the one-second token to expire", func() bool {
		_, err := short.User(t.Context())
		return client.IsUnauthorized(err)
	})

	for _, c := range []struct{ name, value string }{{"forged", forged}, {"expired", expired}} {
		tab := newTab(t)
		tab.setSessionCookie(closed, c.value)
		tab.navigate(closed.URL + "/settings")
		tab.waitLocation("/login?next=/settings")
		tab.waitFor("the password form", `document.querySelector("#password-form")`)
		if strings.Contains(tab.bodyText(), "Signed in as") {
			t.Fatalf("%s cookie: private content shown", c.name)
		}
	}
}

// TestBrowserNotFoundPage: a signed-in visit to an unknown page shows the not-found view.
func TestBrowserNotFoundPage(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "notfound@example.com"
	createUser(t, closed, email, false)
	tab := newTab(t)
	tab.signIn(closed, email, "/")
	tab.navigate(closed.URL + "/no-such-page")
	tab.waitFor("the not-found view", `document.querySelector("h1")?.textContent === "Page not found"`)
}
