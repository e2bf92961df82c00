package e2e

import (
	"strings"
	"testing"
)

// TestBrowserSignUpOnlyWithOpenRegistration: the sign-up page exists only with open
// registration; it proves the address with a mailed code before any account exists, and offers
// a password (under the server's rule) afterwards.
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

	t.Run("open registration proves the address, then creates the account", func(t *testing.T) {
		email := "signup@example.com"
		tab := newTab(t)
		tab.navigate(open.URL + "/login")
		tab.click(`a[href="/signup"]`)
		tab.waitLocation("/signup")
		offset := len(open.Output.String())
		tab.typeInto("#signup-form input[name=email]", email)
		tab.click("#signup-form button[type=submit]")
		tab.waitFor("the code step", `document.querySelector("#signup-code-form input[name=code]")`)
		code := mailedCode(t, open, email, offset)
		if ids := findUsers(t, open, email); len(ids) != 0 {
			t.Fatalf("expected no account before the code comes back, got %d", len(ids))
		}

		wrong := "00000000"
		if code == wrong {
			wrong = "11111111"
		}
		tab.typeInto("#signup-code-form input[name=code]", wrong)
		tab.click("#signup-code-form button[type=submit]")
		tab.waitFor("the wrong-code message", `document.querySelector("[role=alert]")?.textContent.includes("wrong or has expired")`)
		if ids := findUsers(t, open, email); len(ids) != 0 {
			t.Fatalf("expected no account after a wrong code, got %d", len(ids))
		}
		tab.setValue("#signup-code-form input[name=code]", code)
		tab.click("#signup-code-form button[type=submit]")
		tab.waitFor("the password step", `document.querySelector("#signup-password-form input[name=password]")`)
		if hint := tab.text("#signup-password-form .hint"); !strings.Contains(hint, "15") {
			t.Fatalf("expected the password rule shown before submission, got %q", hint)
		}
		if ids := findUsers(t, open, email); len(ids) != 1 {
			t.Fatalf("expected 1 account for %s, got %d", email, len(ids))
		}

		tab.typeInto("#signup-password-form input[name=password]", "password123456789")
		tab.click("#signup-password-form button[type=submit]")
		tab.waitFor("the blocklist message", `document.querySelector("#signup-password-form [data-error-for=password]")?.textContent !== ""`)
		tab.setValue("#signup-password-form input[name=password]", userPassword)
		tab.click("#signup-password-form button[type=submit]")
		tab.waitLocation("/")
		tab.waitFor("the prompt for a last period date", `document.querySelector("#cycle-unknown")`)
		if _, err := mustClient(t, open).AuthWithPassword(t.Context(), email, userPassword); err != nil {
			t.Fatalf("expected the chosen password to sign in: %v", err)
		}
	})

	t.Run("a taken address gets the same page and a notice by mail", func(t *testing.T) {
		email := "taken-signup@example.com"
		createUser(t, open, email, false)
		tab := newTab(t)
		tab.navigate(open.URL + "/signup")
		offset := len(open.Output.String())
		tab.typeInto("#signup-form input[name=email]", email)
		tab.click("#signup-form button[type=submit]")
		tab.waitFor("the code step", `document.querySelector("#signup-code-form input[name=code]")`)
		if !poll(waitTimeout, func() bool { return strings.Contains(open.Output.String()[offset:], "already has one") }) {
			t.Fatalf("expected a notice mailed to %s", email)
		}
		if ids := findUsers(t, open, email); len(ids) != 1 {
			t.Fatalf("expected the account left alone, got %d", len(ids))
		}
	})
}
