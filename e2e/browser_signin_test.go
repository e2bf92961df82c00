package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
)

// TestBrowserPasswordSignIn: signed out, /settings redirects to /login; after a password sign-in
// the browser is back on /settings with the session in localStorage and the pb_auth cookie.
func TestBrowserPasswordSignIn(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "password@example.com"
	createUser(t, closed, email, false)
	tab := newTab(t)

	tab.navigate(closed.URL + "/settings")
	tab.waitLocation("/login?next=/settings")
	if strings.Contains(tab.bodyText(), "Signed in as") {
		t.Fatal("the login page shows private content")
	}
	tab.submitPassword(email)
	tab.waitLocation("/settings")
	tab.waitSignedInAs(email)

	t.Run("the pb_auth cookie holds only the token, with the right attributes", func(t *testing.T) {
		token := tab.storedToken()
		c := tab.sessionCookie(closed)
		if c == nil {
			t.Fatal("no pb_auth cookie after sign-in")
		}
		if c.Value != token || strings.Count(c.Value, ".") != 2 || strings.ContainsAny(c.Value, "{%") {
			t.Fatalf("expected the cookie to be exactly the stored token, got %q (token %q)", c.Value, token)
		}
		if c.Path != "/" || c.SameSite != network.CookieSameSiteLax || c.HTTPOnly || c.Secure || c.Session {
			t.Fatalf("expected Path=/ SameSite=Lax, not HttpOnly, not Secure (http), persistent; got path %q sameSite %q httpOnly %v secure %v session %v",
				c.Path, c.SameSite, c.HTTPOnly, c.Secure, c.Session)
		}
		if exp := tokenExp(t, token); int64(c.Expires) != exp {
			t.Fatalf("expected the cookie to expire with the token at %d, got %v", exp, c.Expires)
		}
	})

	t.Run("the session persists across a reload and slides forward", func(t *testing.T) {
		before := tab.storedToken()
		tab.reload()
		tab.waitLocation("/settings")
		tab.waitSignedInAs(email)
		// Each page load refreshes the token. Its exp has whole seconds, so a load within the
		// sign-in's second gets the same token back: reload until the expiry moves.
		eventually(t, "a reload to refresh the session", func() bool {
			if tokenExp(t, tab.storedToken()) > tokenExp(t, before) {
				return true
			}
			tab.reload()
			tab.waitLocation("/settings")
			tab.waitSignedInAs(email)
			return false
		})
		after := tab.storedToken()
		if c := tab.sessionCookie(closed); c == nil || c.Value != after {
			t.Fatal("the cookie does not follow the refreshed token")
		}
	})
}

// TestBrowserSignInIgnoresOffsiteNext: a next that leaves the site is ignored, after a sign-in
// and when /login continues an existing session.
func TestBrowserSignInIgnoresOffsiteNext(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "next@example.com"
	createUser(t, closed, email, false)
	leaving := []string{"//127.0.0.1:1/evil", `/\127.0.0.1:1/evil`, "http://127.0.0.1:1/evil",
		"/.//127.0.0.1:1/evil", "/a/..//127.0.0.1:1/evil", "/%2e//127.0.0.1:1/evil"}
	var tab *Tab
	for _, next := range leaving {
		tab = newTab(t)
		tab.navigate(closed.URL + "/login?next=" + url.QueryEscape(next))
		tab.submitPassword(email)
		tab.waitLocation("/")
		if origin := mustEval[string](tab, "location.origin"); origin != closed.URL {
			t.Fatalf("next %q: left the site for %s", next, origin)
		}
	}
	// Signed in, /login continues to next at once: the same paths must not leave either.
	for _, next := range leaving {
		mustEval[any](tab, `sessionStorage.removeItem("phaseflow.autoContinue")`) // its 10 s loop guard
		tab.navigate(closed.URL + "/login?next=" + url.QueryEscape(next))
		tab.waitLocation("/")
		if origin := mustEval[string](tab, "location.origin"); origin != closed.URL {
			t.Fatalf("signed in, next %q: left the site for %s", next, origin)
		}
	}
}

// TestBrowserEmailCodeSignIn signs in with the 8-digit code the server mails.
func TestBrowserEmailCodeSignIn(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "code@example.com"
	createUser(t, closed, email, false)
	tab := newTab(t)
	tab.navigate(closed.URL + "/login")
	tab.click("#toggle-method")
	tab.typeInto("#otp-form input[name=email]", email)
	offset := len(closed.Output.String())
	tab.click("#otp-request")
	code := mailedCode(t, closed, email, offset)
	tab.typeInto("#otp-form input[name=code]", code)
	tab.click("#otp-submit")
	tab.waitLocation("/")
	tab.waitFor("today's view", `document.querySelector("#today-title")`)
	if tab.storedToken() == "" || tab.sessionCookie(closed) == nil {
		t.Fatal("signed in without a stored token or cookie")
	}
}

// TestBrowserMFASignIn: for an account with a second factor, the password is followed by an
// emailed code, and nothing is stored before the second step.
func TestBrowserMFASignIn(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "mfa@example.com"
	createUser(t, closed, email, true)
	tab := newTab(t)
	tab.navigate(closed.URL + "/login?next=/settings")
	offset := len(closed.Output.String())
	tab.submitPassword(email)
	tab.waitFor("the second step", `document.querySelector("#mfa-form input[name=code]")`)
	if tab.storedToken() != "" || tab.sessionCookie(closed) != nil {
		t.Fatal("signed in after the first factor only")
	}
	code := mailedCode(t, closed, email, offset)
	tab.typeInto("#mfa-form input[name=code]", code)
	tab.click("#mfa-form button[type=submit]")
	tab.waitLocation("/settings")
	tab.waitSignedInAs(email)
}
