package e2e

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"phaseflow/client"
)

// mailedLink waits for a mail to email printed by the server after offset and returns the link in
// it to page (a PhaseFlow page, with its token).
func mailedLink(t *testing.T, srv *Server, email, page string, offset int) string {
	t.Helper()
	to := regexp.MustCompile(`(?m)^To: .*` + regexp.QuoteMeta(email) + `.*$`)
	link := regexp.MustCompile(`https?://\S+` + regexp.QuoteMeta(page) + `\?token=[A-Za-z0-9._-]+`)
	var found string
	if !poll(waitTimeout, func() bool {
		out := srv.Output.String()[offset:]
		if at := to.FindAllStringIndex(out, -1); len(at) > 0 {
			found = link.FindString(out[at[len(at)-1][1]:])
		}
		return found != ""
	}) {
		t.Fatalf("no %s link mailed to %s; server output:\n%s", page, email, srv.Output.String()[offset:])
	}
	if !strings.HasPrefix(found, srv.URL+page+"?token=") {
		t.Fatalf("expected the link under APP_URL %s, got %s", srv.URL, found)
	}
	return found
}

// TestBrowserForgotAndResetPassword: /login → "Forgot your password?" → a mailed link → the reset
// page (its token gone from the address bar at once) → the rule refuses a common password → the
// new one works, the old one does not, and every other session has ended.
func TestBrowserForgotAndResetPassword(t *testing.T) {
	t.Parallel()
	srv := closedServer(t)
	email := "forgetful@example.com"
	createUser(t, srv, email, false)
	other := signIn(t, srv, email)

	tab := newTab(t)
	tab.navigate(srv.URL + "/login")
	tab.click("#forgot-link")
	tab.waitLocation("/forgot-password")
	offset := len(srv.Output.String())
	tab.typeInto("#forgot-form input[name=email]", email)
	tab.click("#forgot-form button[type=submit]")
	tab.waitFor("the answer", `document.querySelector("[role=status]")?.textContent.startsWith("If an account exists for")`)
	link := mailedLink(t, srv, email, "/reset-password", offset)

	tab.navigate(link)
	tab.waitFor("the reset form", `document.querySelector("#reset-form input[name=password]")`)
	if got := mustEval[string](tab, `location.href`); got != srv.URL+"/reset-password" {
		t.Fatalf("expected the token removed from the address bar, got %s", got)
	}
	if hint := tab.text("#reset-form .hint"); !strings.Contains(hint, "at least 15 characters") {
		t.Fatalf("expected the password rule shown, got %q", hint)
	}
	tab.typeInto("#reset-form input[name=password]", "password123456789")
	tab.click("#reset-form button[type=submit]")
	tab.waitFor("the blocklist message", `document.querySelector("#reset-form [data-error-for=password]")?.textContent !== ""`)
	tab.setValue("#reset-form input[name=password]", "maple harbor lantern")
	tab.click("#reset-form button[type=submit]")
	tab.waitFor("the confirmation", `document.body.innerText.includes("Your new password is saved")`)

	if _, err := other.User(t.Context()); !client.IsUnauthorized(err) {
		t.Fatalf("expected the other session ended by the reset, got %v", err)
	}
	if _, err := mustClient(t, srv).AuthWithPassword(t.Context(), email, userPassword); client.StatusCode(err) != 400 {
		t.Fatalf("expected the old password refused, got %v", err)
	}
	if _, err := mustClient(t, srv).AuthWithPassword(t.Context(), email, "maple harbor lantern"); err != nil {
		t.Fatalf("expected the new password to sign in: %v", err)
	}
	// The link works once.
	tab.navigate(link)
	tab.setValue("#reset-form input[name=password]", "another fresh passphrase")
	tab.click("#reset-form button[type=submit]")
	tab.waitFor("the expired-link message", `document.querySelector("[role=alert]")?.textContent.includes("expired or was already used")`)
}

// TestBrowserVerifyFromSettings: an account an operator created unconfirmed sends itself the
// confirmation mail from the settings page, and its link confirms the address.
func TestBrowserVerifyFromSettings(t *testing.T) {
	t.Parallel()
	srv := closedServer(t)
	email := "unconfirmed@example.com"
	id := createUser(t, srv, email, false, map[string]any{"verified": false})
	tab := newTab(t)
	tab.signIn(srv, email, "/")
	tab.navigate(srv.URL + "/settings")
	tab.waitFor("the unconfirmed address", `document.querySelector("#email-state")?.textContent.includes("not confirmed")`)
	offset := len(srv.Output.String())
	tab.click("#verify-send")
	tab.waitFor("the sent message", `document.querySelector("#email [role=status]")?.textContent.startsWith("We sent a confirmation link")`)
	link := mailedLink(t, srv, email, "/verify-email", offset)

	tab.navigate(link)
	tab.waitFor("the confirm button", `document.querySelector("#verify-form button")`)
	if got := mustEval[string](tab, `location.href`); got != srv.URL+"/verify-email" {
		t.Fatalf("expected the token removed from the address bar, got %s", got)
	}
	tab.click("#verify-form button")
	tab.waitFor("the confirmation", `document.querySelector("[role=status]")?.textContent === `+jsString(email+" is confirmed."))
	var rec struct {
		Verified bool `json:"verified"`
	}
	if err := srv.superuser(t).Do(t.Context(), "GET", "/api/collections/users/records/"+url.PathEscape(id), nil, &rec); err != nil || !rec.Verified {
		t.Fatalf("expected the account verified, got %+v %v", rec, err)
	}
}

// TestBrowserChangeEmail: the settings page mails a link to the new address; its page takes the
// password, moves the account and ends every session.
func TestBrowserChangeEmail(t *testing.T) {
	t.Parallel()
	srv := closedServer(t)
	email, newEmail := "moving@example.com", "moved@example.com"
	createUser(t, srv, email, false)
	other := signIn(t, srv, email)
	tab := newTab(t)
	tab.signIn(srv, email, "/")
	tab.navigate(srv.URL + "/settings")
	tab.waitFor("the email form", `document.querySelector("#email-change input[name=newEmail]")`)
	offset := len(srv.Output.String())
	tab.typeInto("#email-change input[name=newEmail]", newEmail)
	tab.click("#email-change button[type=submit]")
	tab.waitFor("the sent message", `document.querySelector("#email [role=status]")?.textContent.startsWith("We sent a link to")`)
	link := mailedLink(t, srv, newEmail, "/confirm-email-change", offset)

	tab.navigate(link)
	tab.waitFor("the password field", `document.querySelector("#email-change-form input[name=password]")`)
	if !strings.Contains(tab.bodyText(), "from "+email+" to "+newEmail) {
		t.Fatalf("expected the page to name both addresses, got %q", tab.bodyText())
	}
	tab.typeInto("#email-change-form input[name=password]", "not the password")
	tab.click("#email-change-form button[type=submit]")
	tab.waitFor("the wrong-password message", `document.querySelector("#email-change-form [data-error-for=password]")?.textContent === "This is not your current password."`)
	tab.setValue("#email-change-form input[name=password]", userPassword)
	tab.click("#email-change-form button[type=submit]")
	tab.waitFor("the confirmation", `document.body.innerText.includes("Your address is now `+newEmail+`")`)

	if _, err := other.User(t.Context()); !client.IsUnauthorized(err) {
		t.Fatalf("expected the other session ended by the change, got %v", err)
	}
	if _, err := mustClient(t, srv).AuthWithPassword(t.Context(), newEmail, userPassword); err != nil {
		t.Fatalf("expected the new address to sign in: %v", err)
	}
	if ids := findUsers(t, srv, email); len(ids) != 0 {
		t.Fatalf("expected no account left at the old address, got %d", len(ids))
	}
}

// TestBrowserSettingsKeepFocus: after a save or a switch the keyboard focus stays on the control
// used, and after a refused save it is on the first invalid field.
func TestBrowserSettingsKeepFocus(t *testing.T) {
	t.Parallel()
	srv := closedServer(t)
	email := "keyboard@example.com"
	createUser(t, srv, email, false)
	tab := newTab(t)
	tab.signIn(srv, email, "/")
	tab.navigate(srv.URL + "/settings")
	tab.waitFor("the profile form", `document.querySelector("#profile-form input[name=cycleLength]")`)

	save := `document.querySelector("#profile-form button[type=submit]")`
	tab.setValue("#profile-form input[name=cycleLength]", "30")
	tab.press("#profile-form button[type=submit]", "\r")
	tab.waitFor("the saved message", `document.querySelector("#profile [role=status]")?.textContent.includes("saved")`)
	tab.waitFor("the focus on Save", `document.activeElement === `+save)

	tab.setValue("#profile-form input[name=cycleLength]", "10")
	tab.press("#profile-form button[type=submit]", "\r")
	tab.waitFor("the focus on the invalid field", `document.activeElement === document.querySelector("#profile-form input[name=cycleLength]")`)

	tab.waitFor("the second-factor switch", `!document.querySelector("#mfa-switch").disabled`)
	tab.press("#mfa-switch", " ")
	tab.waitFor("the saved switch", `document.querySelector("#mfa [role=status]")?.textContent === "The second step is on."`)
	tab.waitFor("the focus on the switch", `document.activeElement === document.querySelector("#mfa-switch")`)
}
