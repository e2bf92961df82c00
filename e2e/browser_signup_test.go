package e2e

import (
	"strings"
	"testing"
)

// TestBrowserSignUpOnlyWithOpenRegistration: the sign-up page exists only with open
// registration, checks the password confirmation, and creates the account.
func TestBrowserSignUpOnlyWithOpenRegistration(t *testing.T) {
	t.Parallel()
	closed, open := closedServer(t), openServer(t)

	t.Run("closed registration offers no sign-up", func(t *testing.T) {
		tab := newTab(t)
		tab.navigate(closed.URL + "/login")
		tab.waitFor("the login page", `document.querySelector("#password-form")`)
		if strings.Contains(tab.bodyText(), "Create an account") {
			t.Fatal("closed registration offers sign-up")
		}
		tab.navigate(closed.URL + "/signup")
		tab.waitFor("the closed notice", `document.body.innerText.includes("does not take new accounts")`)
	})

	t.Run("open registration creates the account", func(t *testing.T) {
		email := "signup@example.com"
		tab := newTab(t)
		tab.navigate(open.URL + "/login")
		tab.click(`a[href="/signup"]`)
		tab.waitLocation("/signup")
		tab.typeInto("#signup-form input[name=email]", email)
		tab.typeInto("#signup-form input[name=password]", userPassword)
		tab.typeInto("#signup-form input[name=passwordConfirm]", userPassword+"x")
		tab.click("#signup-form button[type=submit]")
		tab.waitFor("the mismatch message", `document.querySelector("#signup-form [data-error-for=passwordConfirm]")?.textContent !== ""`)
		if ids := findUsers(t, open, email); len(ids) != 0 {
			t.Fatalf("expected no account after a mismatched confirmation, got %d", len(ids))
		}
		tab.setValue("#signup-form input[name=passwordConfirm]", userPassword)
		tab.click("#signup-form button[type=submit]")
		tab.waitLocation("/")
		tab.waitFor("the prompt for a last period date", `document.querySelector("#cycle-unknown")`)
		if ids := findUsers(t, open, email); len(ids) != 1 {
			t.Fatalf("expected 1 account for %s, got %d", email, len(ids))
		}
	})
}
