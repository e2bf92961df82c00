package e2e

import (
	"strings"
	"testing"
	"time"

	"phaseflow/client"
)

// TestBrowserScreenshots saves screenshots of /login, /, /settings and the pages the account
// mails link to at phone and desktop widths (see Tab.screenshot), failing when a page scrolls
// sideways.
func TestBrowserScreenshots(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "screens@example.com"
	createUser(t, closed, email, false)
	_, err := signIn(t, closed, email).UpdateUser(t.Context(), client.ProfilePatch{
		CycleLength: new(28), LastPeriodDate: new(time.Now().UTC().AddDate(0, 0, -9).Format(time.DateOnly)),
		NotificationTime: new("08:00"), Timezone: new("Europe/Berlin"),
	})
	if err != nil {
		t.Fatal(err)
	}
	sizes := []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 800, false}}
	tab := newTab(t)
	var paths []string
	for _, s := range sizes {
		tab.navigate(closed.URL + "/login")
		tab.waitFor("the login page", `document.querySelector("#oidc-signin") && document.querySelector("#password-form")`)
		paths = append(paths, tab.screenshot("login-"+s.name, s.width, s.height, s.mobile))
	}
	tab.signIn(closed, email, "/")
	for _, s := range sizes {
		tab.navigate(closed.URL + "/")
		tab.waitFor("today's view", `document.querySelector("#cycle-summary")`)
		paths = append(paths, tab.screenshot("home-"+s.name, s.width, s.height, s.mobile))
		tab.navigate(closed.URL + "/settings")
		tab.waitFor("the settings", `document.querySelector("#activity-list li") && document.querySelector("#calendar-state")?.textContent !== "Checking…" && !document.querySelector("#mfa-switch").disabled`)
		paths = append(paths, tab.screenshot("settings-"+s.name, s.width, s.height, s.mobile))
	}
	// The pages the account mails link to, each opened from a real mail.
	unconfirmed := "screens-unconfirmed@example.com"
	createUser(t, closed, unconfirmed, false, map[string]any{"verified": false})
	api := signIn(t, closed, email)
	linked := []struct {
		name, page, to string
		ask            func() error
		ready          string
	}{
		{"reset-password", "/reset-password", email, func() error {
			return api.Do(t.Context(), "POST", "/api/collections/users/request-password-reset", map[string]string{"email": email}, nil)
		}, `document.querySelector("#reset-form input[name=password]")`},
		{"verify-email", "/verify-email", unconfirmed, func() error {
			return api.Do(t.Context(), "POST", "/api/collections/users/request-verification", map[string]string{"email": unconfirmed}, nil)
		}, `document.querySelector("#verify-form button")`},
		{"confirm-email-change", "/confirm-email-change", "screens-new@example.com", func() error {
			return api.Do(t.Context(), "POST", "/api/collections/users/request-email-change", map[string]string{"newEmail": "screens-new@example.com"}, nil)
		}, `document.querySelector("#email-change-form input[name=password]")`},
	}
	tab.navigate(closed.URL + "/forgot-password")
	tab.waitFor("the forgot-password page", `document.querySelector("#forgot-form")`)
	for _, s := range sizes {
		paths = append(paths, tab.screenshot("forgot-password-"+s.name, s.width, s.height, s.mobile))
	}
	for _, l := range linked {
		offset := len(closed.Output.String())
		if err := l.ask(); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		tab.navigate(mailedLink(t, closed, l.to, l.page, offset))
		tab.waitFor("the "+l.name+" page", l.ready)
		for _, s := range sizes {
			paths = append(paths, tab.screenshot(l.name+"-"+s.name, s.width, s.height, s.mobile))
		}
	}
	// Sign-up (open registration), at its first and second step.
	open := openServer(t)
	signup := newTab(t)
	signup.navigate(open.URL + "/signup")
	signup.waitFor("the sign-up page", `document.querySelector("#signup-form")`)
	for _, s := range sizes {
		paths = append(paths, signup.screenshot("signup-"+s.name, s.width, s.height, s.mobile))
	}
	signup.typeInto("#signup-form input[name=email]", "screens-signup@example.com")
	signup.click("#signup-form button[type=submit]")
	signup.waitFor("the code step", `document.querySelector("#signup-code-form input[name=code]")`)
	for _, s := range sizes {
		paths = append(paths, signup.screenshot("signup-code-"+s.name, s.width, s.height, s.mobile))
	}
	t.Logf("screenshots:\n%s", strings.Join(paths, "\n"))
}
