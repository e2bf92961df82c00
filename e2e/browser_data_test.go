package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"phaseflow/client"
)

// allowDownloads saves the tab's downloads into dir under the names the page gives them.
func (tab *Tab) allowDownloads(dir string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, waitTimeout)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllow,
		BrowserContextID: chromedp.FromContext(tab.ctx).BrowserContextID,
		DownloadPath:     dir,
	})
	if err != nil {
		tab.t.Fatalf("allow downloads: %v", err)
	}
}

var exportName = regexp.MustCompile(`^phaseflow-export-(\d{4}-\d{2}-\d{2})\.json$`)

// waitDownload waits for one finished export file in dir and returns its name and content.
func waitDownload(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	var name string
	var raw []byte
	eventually(t, "the downloaded export", func() bool {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 || !exportName.MatchString(entries[0].Name()) {
			return false // none yet, or still a .crdownload
		}
		name = entries[0].Name()
		raw, err = os.ReadFile(filepath.Join(dir, name))
		return err == nil && json.Valid(raw)
	})
	return name, raw
}

// TestBrowserYourData: "Download my data" saves the account's JSON (its profile, no secret), and
// deleting the account, after a wrong confirmation is refused, removes it and everything it held:
// the browser is signed out, sign-in fails and the calendar feed answers 404.
func TestBrowserYourData(t *testing.T) {
	t.Parallel()
	closed := closedServer(t)
	email := "your-data@example.com"
	id := createUser(t, closed, email, false, map[string]any{"cycleLength": 29, "timezone": "Europe/Vienna", "name": "Dana Data"})
	api := signIn(t, closed, email)
	feedURL, err := api.CreateCalendarToken(t.Context(), userPassword)
	if err != nil {
		t.Fatal(err)
	}
	feedPath := strings.TrimPrefix(feedURL, closed.URL)
	feedToken := strings.TrimSuffix(feedPath[strings.LastIndex(feedPath, "/")+1:], ".ics")

	tab := newTab(t)
	tab.signIn(closed, email, "/")
	tab.navigate(closed.URL + "/settings")
	tab.waitSignedInAs(email)
	token := tab.storedToken()

	t.Run("the export downloads the profile as JSON, without a secret", func(t *testing.T) {
		dir := t.TempDir()
		tab.allowDownloads(dir)
		tab.click("#data-export")
		name, raw := waitDownload(t, dir)
		tab.waitFor("the download message", `document.querySelector("#data-export-part [role=status]")?.textContent.includes(`+jsString(name)+`)`)
		var doc struct {
			Format     string `json:"format"`
			Version    int    `json:"version"`
			ExportedAt string `json:"exportedAt"`
			Profile    struct {
				ID          string `json:"id"`
				Email       string `json:"email"`
				Name        string `json:"name"`
				CycleLength int    `json:"cycleLength"`
				Timezone    string `json:"timezone"`
			} `json:"profile"`
			CalendarFeed struct {
				Active bool `json:"active"`
			} `json:"calendarFeed"`
			Sessions []struct {
				Current bool `json:"current"`
			} `json:"sessions"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		p := doc.Profile
		if doc.Format != "phaseflow-account-export" || doc.Version != 1 || p.ID != id || p.Email != email || p.Name != "Dana Data" ||
			p.CycleLength != 29 || p.Timezone != "Europe/Vienna" || !doc.CalendarFeed.Active || len(doc.Sessions) < 2 {
			t.Fatalf("unexpected export %s", raw)
		}
		if got := exportName.FindStringSubmatch(name)[1]; !strings.HasPrefix(doc.ExportedAt, got) {
			t.Fatalf("expected the file named after the export's day, got %s for %s", name, doc.ExportedAt)
		}
		for what, secret := range map[string]string{"the session token": token, "the feed token": feedToken, "the password": userPassword} {
			if strings.Contains(string(raw), secret) {
				t.Fatalf("the export holds %s", what)
			}
		}
		for _, field := range []string{`"tokenKey":`, `"password":`, `"calendarTokenHash":`, `"idToken":`} {
			if strings.Contains(string(raw), field) {
				t.Fatalf("the export has a %s field", field)
			}
		}
	})

	t.Run("a wrong confirming email is refused next to its field", func(t *testing.T) {
		tab.typeInto("#data-delete input[name=confirmEmail]", "someone-else@example.com")
		tab.click("#data-delete button[type=submit]")
		tab.waitFor("the field error", `document.querySelector("#data-delete [data-error-for=confirmEmail]")?.textContent !== ""`)
		if got := tab.text("#data-delete [data-error-for=confirmEmail]"); got != "This is not your account's email address." {
			t.Fatalf("expected the server's message next to the field, got %q", got)
		}
		if ids := findUsers(t, closed, email); len(ids) != 1 {
			t.Fatalf("expected the account to stay, got %v", ids)
		}
	})

	t.Run("deleting the account removes it and everything it held", func(t *testing.T) {
		tab.setValue("#data-delete input[name=confirmEmail]", email)
		tab.click("#data-delete button[type=submit]")
		tab.waitLocation("/login")
		tab.waitFor("the notice", `document.querySelector("[role=status]")?.textContent === "Your account was deleted."`)
		if tab.storedToken() != "" || tab.sessionCookie(closed) != nil {
			t.Fatal("expected the browser to be signed out")
		}
		if ids := findUsers(t, closed, email); len(ids) != 0 {
			t.Fatalf("expected the account to be gone, got %v", ids)
		}
		su := closed.superuser(t)
		for _, col := range []string{"sessions", "auth_events"} {
			q := url.Values{"filter": {`user = "` + id + `"`}}
			var out struct {
				TotalItems int `json:"totalItems"`
			}
			if err := su.Do(t.Context(), "GET", "/api/collections/"+col+"/records?"+q.Encode(), nil, &out); err != nil {
				t.Fatal(err)
			}
			if out.TotalItems != 0 {
				t.Fatalf("expected no %s rows of the account, got %d", col, out.TotalItems)
			}
		}
		if _, err := mustClient(t, closed).AuthWithPassword(t.Context(), email, userPassword); client.StatusCode(err) != http.StatusBadRequest {
			t.Fatalf("expected the sign-in to fail with 400, got %v", err)
		}
		if _, err := api.User(t.Context()); !client.IsUnauthorized(err) {
			t.Fatalf("expected another session of the account to be over, got %v", err)
		}
		if err := mustClient(t, closed).Do(t.Context(), "GET", feedPath, nil, nil); client.StatusCode(err) != http.StatusNotFound {
			t.Fatalf("expected the feed to answer 404, got %v", err)
		}
		ledger, err := os.ReadFile(filepath.Join(closed.Dir, "pb_data.erasures"))
		if err != nil || !strings.Contains(string(ledger), " "+id+"\n") {
			t.Fatalf("expected the erasure in the ledger next to pb_data, got %q %v", ledger, err)
		}
	})
}
