package e2e

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"phaseflow/client"
)

// TestBrowserSettingsProfile: editing the profile saves, a bad value shows the server's message
// next to the field, and today's view shows the server's cycle.
func TestBrowserSettingsProfile(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "settings@example.com"
	createUser(t, closed, email, false)
	tab := newTab(t)
	tab.signIn(closed, email, "/")
	tab.navigate(closed.URL + "/settings")
	tab.waitFor("the profile form", `document.querySelector("#profile-form input[name=cycleLength]")`)

	lastPeriod := time.Now().UTC().AddDate(0, 0, -5).Format(time.DateOnly)
	tab.setValue("#profile-form input[name=cycleLength]", "31")
	tab.setValue("#profile-form input[name=lastPeriodDate]", lastPeriod)
	tab.setValue("#profile-form input[name=notificationTime]", "07:45")
	tab.setValue("#profile-form input[name=timezone]", "Europe/Berlin")
	tab.click("#profile-form button[type=submit]")
	tab.waitFor("the saved message", `document.querySelector("#profile [role=status]")?.textContent.includes("saved")`)

	tab.reload()
	tab.waitLocation("/settings")
	tab.waitFor("the saved values", `document.querySelector("#profile-form input[name=cycleLength]")?.value === "31"`)
	values := mustEval[map[string]string](tab, `Object.fromEntries(["cycleLength","lastPeriodDate","notificationTime","timezone"].map(n => [n, document.querySelector("#profile-form input[name=" + n + "]").value]))`)
	want := map[string]string{"cycleLength": "31", "lastPeriodDate": lastPeriod, "notificationTime": "07:45", "timezone": "Europe/Berlin"}
	for k, v := range want {
		if values[k] != v {
			t.Fatalf("after reload, expected %s %q, got %q", k, v, values[k])
		}
	}
	api := signIn(t, closed, email)
	if p, err := api.User(t.Context()); err != nil || p.CycleLength != 31 || p.LastPeriodDate != lastPeriod ||
		p.NotificationTime != "07:45" || p.Timezone != "Europe/Berlin" {
		t.Fatalf("expected the server to store the form's values, got %+v %v", p, err)
	}

	// The message the server gives for this value, asked directly.
	const serverMessage = "Must be between 20 and 60 days."
	_, err := api.UpdateUser(t.Context(), client.ProfilePatch{CycleLength: new(10)})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Data["cycleLength"].Message != serverMessage {
		t.Fatalf("expected the server to reject cycleLength 10 with 400 %q, got %v", serverMessage, err)
	}
	tab.setValue("#profile-form input[name=cycleLength]", "10")
	tab.click("#profile-form button[type=submit]")
	tab.waitFor("the field error", `document.querySelector("#profile-form [data-error-for=cycleLength]")?.textContent !== ""`)
	if got := tab.text("#profile-form [data-error-for=cycleLength]"); got != serverMessage {
		t.Fatalf("expected the server's message %q next to the field, got %q", serverMessage, got)
	}
	invalid := mustEval[string](tab, `document.querySelector("#profile-form input[name=cycleLength]").getAttribute("aria-invalid") || ""`)
	if invalid != "true" || tab.text("#profile [role=alert]") == "" {
		t.Fatal("the error is not announced: expected aria-invalid and a message in the alert")
	}

	t.Run("today's view shows the server's cycle", func(t *testing.T) {
		cycle, err := api.Cycle(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tab.click(`.site-header a[href="/"]`)
		tab.waitLocation("/")
		tab.waitFor("the cycle summary", `document.querySelector("#cycle-summary")`)
		got := mustEval[map[string]string](tab, `(() => { const s = document.querySelector("#cycle-summary"); return {day: s.dataset.cycleDay, phase: s.dataset.phase, next: document.querySelector("#next-period").dataset.date}; })()`)
		want := map[string]string{"day": strconv.Itoa(cycle.CycleDay), "phase": cycle.Phase, "next": cycle.NextPeriod}
		if cycle.CycleDay == 0 || got["day"] != want["day"] || got["phase"] != want["phase"] || got["next"] != want["next"] {
			t.Fatalf("expected the page to show %v, got %v", want, got)
		}
	})
}

// TestBrowserSettingsCalendarFeed: the feed URL is shown once and works; after a reload only its
// state is shown; revoking it ends the feed.
func TestBrowserSettingsCalendarFeed(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "feed@example.com"
	id := createUser(t, closed, email, false)
	tab := newTab(t)
	tab.signIn(closed, email, "/")
	tab.navigate(closed.URL + "/settings")
	tab.waitFor("the feed state", `document.querySelector("#calendar-state")?.textContent === "You have no calendar link."`)

	tab.click("#calendar-create")
	tab.waitFor("the feed URL", `document.querySelector("#calendar-result input")?.value.endsWith(".ics")`)
	feedURL := mustEval[string](tab, `document.querySelector("#calendar-result input").value`)
	pattern := regexp.MustCompile(`^` + regexp.QuoteMeta(closed.URL+"/api/calendar/"+id+"/") + `[A-Za-z0-9_-]{43}\.ics$`)
	if !pattern.MatchString(feedURL) {
		t.Fatalf("expected a feed URL matching %s, got %q", pattern, feedURL)
	}
	// A calendar app sends no token.
	calendarApp := mustClient(t, closed)
	feedPath := strings.TrimPrefix(feedURL, closed.URL)
	if err := calendarApp.Do(t.Context(), "GET", feedPath, nil, nil); err != nil {
		t.Fatalf("expected the shown feed URL to work, got %v", err)
	}
	tab.reload()
	tab.waitFor("the active feed", `document.querySelector("#calendar-state")?.textContent === "A private calendar link is active."`)
	if strings.Contains(tab.bodyText(), feedURL) || mustEval[bool](tab, `!document.querySelector("#calendar-result").hidden`) {
		t.Fatal("the feed URL is shown again after a reload")
	}
	tab.click("#calendar-revoke")
	tab.waitFor("the revoked feed", `document.querySelector("#calendar-state")?.textContent === "You have no calendar link."`)
	err := calendarApp.Do(t.Context(), "GET", feedPath, nil, nil)
	if got := client.StatusCode(err); got != http.StatusNotFound {
		t.Fatalf("expected the revoked feed URL to answer 404, got %d (%v)", got, err)
	}
}

// TestBrowserSettingsSecondFactorAndActivity: the second-factor switch stores its state on the
// server, and the activity list shows the password sign-in.
func TestBrowserSettingsSecondFactorAndActivity(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "switch@example.com"
	createUser(t, closed, email, false)
	tab := newTab(t)
	tab.signIn(closed, email, "/")
	tab.navigate(closed.URL + "/settings")

	api := signIn(t, closed, email)
	tab.waitFor("the second-factor switch", `!document.querySelector("#mfa-switch").disabled`)
	for _, want := range []bool{true, false} {
		tab.click("#mfa-switch")
		tab.waitFor("the saved switch", `document.querySelector("#mfa [role=status]")?.textContent === `+
			jsString(map[bool]string{true: "The second step is on.", false: "The second step is off."}[want]))
		if s, err := api.MFA(t.Context()); err != nil || s.Enabled != want {
			t.Fatalf("expected the server to store mfa %v, got %+v %v", want, s, err)
		}
	}
	tab.waitFor("the activity list", `document.querySelector("#activity-list li")`)
	if !strings.Contains(tab.text("#activity-list"), "Password succeeded") {
		t.Fatalf("expected the password sign-in in the activity list, got %q", tab.text("#activity-list"))
	}
}

// TestBrowserSettingsPasswordChange: the password section shows the rule, names a wrong current
// password next to its field, and a new password signs every other device out while this one
// stays signed in.
func TestBrowserSettingsPasswordChange(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "newpass@example.com"
	createUser(t, closed, email, false)
	other := signIn(t, closed, email)
	tab := newTab(t)
	tab.signIn(closed, email, "/")
	tab.navigate(closed.URL + "/settings")
	tab.waitFor("the password section", `document.querySelector("#password-change input[name=password]")`)
	if hint := tab.text("#password-change .field:nth-of-type(2) .hint"); !strings.Contains(hint, "at least 15 characters") {
		t.Fatalf("expected the rule shown before submission, got %q", hint)
	}

	tab.typeInto("#password-change input[name=currentPassword]", "not-the-password")
	tab.typeInto("#password-change input[name=password]", "lantern otter violet")
	tab.click("#password-change button[type=submit]")
	tab.waitFor("the wrong-password message", `document.querySelector("#password-change [data-error-for=currentPassword]")?.textContent !== ""`)
	if _, err := other.User(t.Context()); err != nil {
		t.Fatalf("a refused change ended another device: %v", err)
	}

	tab.setValue("#password-change input[name=currentPassword]", userPassword)
	tab.click("#password-change button[type=submit]")
	tab.waitFor("the confirmation", `document.querySelector("#password [role=status]")?.textContent.startsWith("Password changed")`)
	if _, err := other.User(t.Context()); !client.IsUnauthorized(err) {
		t.Fatalf("expected the other device signed out, got %v", err)
	}
	tab.reload()
	tab.waitFor("the settings, still signed in", `document.querySelector("#signed-in-as")?.textContent.includes(`+jsString(email)+`)`)
	if _, err := mustClient(t, closed).AuthWithPassword(t.Context(), email, "lantern otter violet"); err != nil {
		t.Fatalf("expected the new password to sign in: %v", err)
	}
}
