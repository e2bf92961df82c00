package e2e

import (
	"strings"
	"testing"
	"time"

	"phaseflow/client"
)

// TestBrowserScreenshots saves screenshots of /login, / and /settings at phone and desktop
// widths (see Tab.screenshot), failing when a page scrolls sideways.
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
	t.Logf("screenshots:\n%s", strings.Join(paths, "\n"))
}
