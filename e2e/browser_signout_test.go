package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"phaseflow/client"
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
	// The browser keeps the token and the account's id, never the profile.
	stored := mustEval[string](tab, `Object.keys(JSON.parse(localStorage.getItem("pocketbase_auth")).record || {}).sort().join(",")`)
	if stored != "collectionId,collectionName,id" {
		t.Fatalf("expected localStorage to hold only the token and the account id, got record keys %q", stored)
	}
	token := tab.storedToken()

	tab.click("#sign-out")
	tab.waitLocation("/login")
	tab.waitFor("the signed-out notice", `document.querySelector("[role=status]")?.textContent === "You are signed out."`)
	// The server ended the session: a copy of the token no longer works.
	copied := mustClient(t, closed)
	copied.SetToken(token)
	if _, err := copied.User(t.Context()); client.StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("expected the token to stop working at sign-out, got %v", err)
	}
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
	second.waitFor("the session-ended notice", `document.querySelector("[role=status]")?.textContent.includes("Your session has ended")`)
}

// TestBrowserDevices: the Devices section lists this browser and the others, ends one of them,
// and then all the others; a browser whose session was ended lands on /login and is told why.
func TestBrowserDevices(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "devices@example.com"
	createUser(t, closed, email, false)
	here, phone, tablet := newTab(t), newTab(t), newTab(t)
	phone.signIn(closed, email, "/")
	tablet.signIn(closed, email, "/")
	here.signIn(closed, email, "/")
	here.navigate(closed.URL + "/settings")
	here.waitFor("three devices", `document.querySelectorAll("#device-list li").length === 3`)

	current := mustEval[string](here, `[...document.querySelectorAll("#device-list li")].filter(li => li.querySelector(".badge")).map(li => li.dataset.session).join(",")`)
	if current == "" || strings.Contains(current, ",") {
		t.Fatalf("expected exactly one device marked as this device, got %q", current)
	}
	if text := here.text("#device-list"); !strings.Contains(text, "This device") || !strings.Contains(text, "active now") ||
		!strings.Contains(text, "signed in with password") || !strings.Contains(text, "Chrome") {
		t.Fatalf("expected the device, its activity and its method, got %q", text)
	}

	// End the phone: the first other device's button.
	phoneSession := sessionOf(t, phone)
	here.click(`#device-list li[data-session="` + phoneSession + `"] button`)
	here.waitFor("two devices left", `document.querySelectorAll("#device-list li").length === 2`)
	here.waitFor("the confirmation", `document.querySelector("#devices [role=status]")?.textContent.startsWith("Signed out ")`)
	if focused := mustEval[string](here, `document.activeElement?.tagName || ""`); focused != "BUTTON" {
		t.Fatalf("expected the focus to stay on a control of the section, got %q", focused)
	}
	phone.click(`.site-header a[href="/settings"]`)
	phone.waitLocation("/login?next=/settings")
	phone.waitFor("the session-ended notice", `document.querySelector("[role=status]")?.textContent.includes("Your session has ended")`)

	// Sign out of all other devices: the tablet goes, this browser stays.
	here.click("#sign-out-others")
	here.waitFor("one device left", `document.querySelectorAll("#device-list li").length === 1`)
	here.waitFor("the confirmation", `document.querySelector("#devices [role=status]")?.textContent === "Signed out of 1 other device."`)
	if !mustEval[bool](here, `document.querySelector("#sign-out-others").hidden`) {
		t.Fatal("expected the all-other-devices button hidden with no other device")
	}
	tablet.click(`.site-header a[href="/settings"]`)
	tablet.waitLocation("/login?next=/settings")
	here.reload()
	here.waitFor("the settings page still signed in", `document.querySelectorAll("#device-list li").length === 1`)
}

// sessionOf is the session id in the token a tab holds.
func sessionOf(t *testing.T, tab *Tab) string {
	t.Helper()
	sid := tokenClaim(t, tab.storedToken(), "sid")
	if sid == "" {
		t.Fatal("the stored token carries no session id")
	}
	return sid
}
