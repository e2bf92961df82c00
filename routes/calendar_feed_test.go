package routes_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/internal/apptest"
	"phaseflow/routes"
	"phaseflow/users"
)

func createFeed(t *testing.T, srv *apptest.Server, user *core.Record) string {
	t.Helper()
	res := srv.Do(t, "POST", "/api/user/calendar-token", map[string]string{"password": apptest.Password},
		map[string]string{"Authorization": apptest.Token(t, srv.App, user)})
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	u, _ := res.JSON(t)["url"].(string)
	return u
}

func TestCalendarFeed(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	last := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
	withPeriod := func(r *core.Record) { r.Set(users.FieldLastPeriodDate, last+" 00:00:00.000Z") }
	ana := apptest.CreateUser(t, srv.App, "ana@example.com", withPeriod)
	bob := apptest.CreateUser(t, srv.App, "bob@example.com", withPeriod)

	feedURL := createFeed(t, srv, ana)
	path := strings.TrimPrefix(feedURL, "http://127.0.0.1:8090")
	token := strings.TrimSuffix(path[strings.LastIndex(path, "/")+1:], ".ics")

	t.Run("the token is returned once as a URL from APP_URL and stored only as a hash", func(t *testing.T) {
		if !strings.HasPrefix(feedURL, "http://127.0.0.1:8090/api/calendar/"+ana.Id+"/") || len(token) != 43 {
			t.Fatalf("unexpected feed URL %q", feedURL)
		}
		r, _ := srv.App.FindRecordById(users.Collection, ana.Id)
		if h := r.GetString(users.FieldCalendarTokenHash); h == "" || strings.Contains(h, token) {
			t.Fatalf("expected a hash, not the token, got %q", h)
		}
		state := srv.Do(t, "GET", "/api/user/calendar-token", nil, map[string]string{"Authorization": apptest.Token(t, srv.App, ana)})
		if string(state.Body) != `{"active":true}` {
			t.Fatalf("expected active, got %s", state.Body)
		}
	})

	var etag string
	var firstBody []byte
	t.Run("the feed is an RFC 5545 calendar", func(t *testing.T) {
		res := srv.Do(t, "GET", path, nil, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
			t.Fatalf("unexpected content type %q", ct)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
			t.Fatalf("expected Cache-Control private, got %q", cc)
		}
		etag, firstBody = res.Header.Get("ETag"), res.Body
		cal, err := ics.ParseCalendar(bytes.NewReader(res.Body))
		if err != nil {
			t.Fatalf("the feed does not parse: %v", err)
		}
		if n := len(cal.Events()); n < 20 {
			t.Fatalf("expected phases from cycles back to cycles ahead, got %d events", n)
		}
	})
	t.Run("a second fetch is identical and If-None-Match gets 304", func(t *testing.T) {
		res := srv.Do(t, "GET", path, nil, nil)
		if !bytes.Equal(res.Body, firstBody) || res.Header.Get("ETag") != etag {
			t.Fatal("expected the same body and ETag (stable UIDs)")
		}
		res = srv.Do(t, "GET", path, nil, map[string]string{"If-None-Match": etag})
		if res.Status != http.StatusNotModified || len(res.Body) != 0 {
			t.Fatalf("expected 304 with no body, got %d", res.Status)
		}
	})

	bobFeed := strings.TrimPrefix(createFeed(t, srv, bob), "http://127.0.0.1:8090")
	bobToken := strings.TrimSuffix(bobFeed[strings.LastIndex(bobFeed, "/")+1:], ".ics")
	notFound := []struct{ name, path string }{
		{"A's token on B's id", "/api/calendar/" + bob.Id + "/" + token + ".ics"},
		{"B's token on A's id", "/api/calendar/" + ana.Id + "/" + bobToken + ".ics"},
		{"a wrong token", "/api/calendar/" + ana.Id + "/" + strings.Repeat("A", 43) + ".ics"},
		{"an unknown user", "/api/calendar/aaaaaaaaaaaaaaa/" + token + ".ics"},
		{"no .ics suffix", "/api/calendar/" + ana.Id + "/" + token},
		{"a short token", "/api/calendar/" + ana.Id + "/" + token[:20] + ".ics"},
		{"a malformed user id", "/api/calendar/..%2f..%2f/" + token + ".ics"},
		{"the token hash instead of the token", "/api/calendar/" + ana.Id + "/" + strings.Repeat("0", 43) + ".ics"},
		{"no token segment", "/api/calendar/" + ana.Id},
		{"an extra segment", path + "/extra"},
		{"a trailing slash", "/api/calendar/" + ana.Id + "/"},
	}
	var first string
	for _, c := range notFound {
		t.Run(c.name+" is the same 404", func(t *testing.T) {
			res := srv.Do(t, "GET", c.path, nil, nil)
			if res.Status != http.StatusNotFound || strings.Contains(string(res.Body), "VCALENDAR") {
				t.Fatalf("expected 404, got %d: %s", res.Status, res.Body)
			}
			if first == "" {
				first = string(res.Body)
			} else if string(res.Body) != first {
				t.Fatalf("expected the same body %s, got %s", first, res.Body)
			}
		})
	}

	t.Run("sign-out everywhere and a password change do not break the feed", func(t *testing.T) {
		if res := srv.Do(t, "POST", "/api/user/logout-all", nil, map[string]string{"Authorization": apptest.Token(t, srv.App, ana)}); res.Status != http.StatusNoContent {
			t.Fatalf("logout-all: %d %s", res.Status, res.Body)
		}
		if res := srv.Do(t, "GET", path, nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected the feed to keep working after logout-all, got %d", res.Status)
		}
		fresh, _ := srv.App.FindRecordById(users.Collection, ana.Id)
		fresh.SetPassword("another-long-password")
		if err := srv.App.Save(fresh); err != nil {
			t.Fatal(err)
		}
		if res := srv.Do(t, "GET", path, nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected the feed to keep working after a password change, got %d", res.Status)
		}
	})
	t.Run("A cannot revoke B's feed; revoking A's own ends it", func(t *testing.T) {
		fresh, _ := srv.App.FindRecordById(users.Collection, ana.Id)
		res := srv.Do(t, "DELETE", "/api/user/calendar-token", nil, map[string]string{"Authorization": apptest.Token(t, srv.App, fresh)})
		if res.Status != http.StatusNoContent {
			t.Fatalf("expected 204, got %d", res.Status)
		}
		if res := srv.Do(t, "GET", path, nil, nil); res.Status != http.StatusNotFound {
			t.Fatalf("expected a revoked feed to 404, got %d", res.Status)
		}
		if res := srv.Do(t, "GET", bobFeed, nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected B's feed untouched, got %d", res.Status)
		}
	})
	t.Run("replacing the token invalidates the old one", func(t *testing.T) {
		old := strings.TrimPrefix(createFeed(t, srv, bob), "http://127.0.0.1:8090")
		if res := srv.Do(t, "GET", bobFeed, nil, nil); res.Status != http.StatusNotFound {
			t.Fatalf("expected the replaced token to 404, got %d", res.Status)
		}
		if res := srv.Do(t, "GET", old, nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected the new token to work, got %d", res.Status)
		}
	})
	t.Run("creating a feed needs a recent sign-in or the password", func(t *testing.T) {
		dan := apptest.CreateUser(t, srv.App, "dan@example.com")
		old := apptest.Token(t, srv.App, dan) // a session without a recent sign-in
		before := apptest.UsersSnapshot(t, srv.App)
		if res := srv.Do(t, "POST", "/api/user/calendar-token", nil, apptest.Auth(old)); res.Status != http.StatusForbidden {
			t.Fatalf("expected 403 without proof, got %d: %s", res.Status, res.Body)
		}
		wrong := srv.Do(t, "POST", "/api/user/calendar-token", map[string]string{"password": "not-the-password"}, apptest.Auth(old))
		if wrong.Status != http.StatusBadRequest || !strings.Contains(string(wrong.Body), `"password":{"code":"validation_invalid_password"`) {
			t.Fatalf("expected 400 naming the password, got %d: %s", wrong.Status, wrong.Body)
		}
		if apptest.UsersSnapshot(t, srv.App) != before {
			t.Fatal("a refused feed request changed an account")
		}
		if evs := apptest.AuthEvents(t, srv.App, "method = 'calendar_token' && outcome = 'failure' && user = {:u}", map[string]any{"u": dan.Id}); len(evs) != 2 {
			t.Fatalf("expected both refusals audited, got %d", len(evs))
		}
		fresh := srv.SignIn(t, "dan@example.com", "test") // a sign-in just now is proof enough
		if res := srv.Do(t, "POST", "/api/user/calendar-token", nil, apptest.Auth(fresh)); res.Status != http.StatusOK {
			t.Fatalf("expected 200 right after a sign-in, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("an unverified account cannot create a feed", func(t *testing.T) {
		eve := apptest.CreateUser(t, srv.App, "eve@example.com", func(r *core.Record) { r.SetVerified(false) })
		res := srv.Do(t, "POST", "/api/user/calendar-token", nil, map[string]string{"Authorization": apptest.Token(t, srv.App, eve)})
		if res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("verifying an account ends a feed made before", func(t *testing.T) {
		eve := apptest.CreateUser(t, srv.App, "eve2@example.com", func(r *core.Record) {
			r.SetVerified(false)
			r.Set(users.FieldCalendarTokenHash, strings.Repeat("a", 64))
		})
		eve.SetVerified(true)
		if err := srv.App.Save(eve); err != nil {
			t.Fatal(err)
		}
		fresh, _ := srv.App.FindRecordById(users.Collection, eve.Id)
		if fresh.GetString(users.FieldCalendarTokenHash) != "" {
			t.Fatal("expected the feed hash to be cleared on verification")
		}
	})
	t.Run("token endpoints need a user token", func(t *testing.T) {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			if res := srv.Do(t, m, "/api/user/calendar-token", nil, nil); res.Status != http.StatusUnauthorized {
				t.Fatalf("%s: expected 401, got %d", m, res.Status)
			}
		}
	})
}

// TestCalendarFeedTokenNeverLogged turns request logging on (test apps have it off) and checks
// PocketBase's _logs after successful and failed feed requests.
func TestCalendarFeedTokenNeverLogged(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	srv.App.Settings().Logs.MaxDays = 7
	// A tight limit on feeds, so some requests are refused by the rate limiter before the handler.
	// PocketBase takes the first matching rule, so it goes before the default "/api/" one.
	srv.App.Settings().RateLimits.Rules = append([]core.RateLimitRule{{Label: "/api/calendar/", MaxRequests: 3, Duration: 60}},
		srv.App.Settings().RateLimits.Rules...)
	if err := srv.App.Save(srv.App.Settings()); err != nil {
		t.Fatal(err)
	}
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	feed := strings.TrimPrefix(createFeed(t, srv, ana), "http://127.0.0.1:8090")
	token := strings.TrimSuffix(feed[strings.LastIndex(feed, "/")+1:], ".ics")
	wrong := strings.Replace(feed, token[:5], "zzzzz", 1)

	limited := 0
	for _, p := range []string{feed, feed, wrong, feed + "?x=" + token, "/api/calendar/" + ana.Id + "/" + token, feed + "/extra"} {
		if srv.Do(t, "GET", p, nil, nil).Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("expected some requests to be rate limited")
	}
	var logs []struct{ Data string }
	deadline := time.Now().Add(10 * time.Second)
	for {
		logs = nil
		err := srv.App.AuxDB().Select("data").From("_logs").Where(dbx.NewExp("data LIKE '%calendar%'")).All(&logs)
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(logs) < 6 {
		t.Fatalf("expected the 6 feed requests in the logs, got %d", len(logs))
	}
	for _, l := range logs {
		if strings.Contains(l.Data, token) || strings.Contains(l.Data, token[5:]) {
			t.Fatalf("the token is in the log: %s", l.Data)
		}
	}
}

func FuzzParseFeedPath(f *testing.F) {
	f.Add("abcdefghij12345", strings.Repeat("A", 43)+".ics")
	f.Add("abcdefghij12345", strings.Repeat("A", 43))
	f.Add("../../etc", "passwd.ics")
	f.Add("", ".ics")
	f.Fuzz(func(t *testing.T, userID, file string) {
		token, ok := routes.ParseFeedPath(userID, file)
		if !ok {
			return
		}
		if len(token) != 43 || file != token+".ics" || len(userID) != 15 {
			t.Fatalf("accepted %q %q as token %q", userID, file, token)
		}
		for _, c := range token + userID {
			if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				t.Fatalf("accepted a character %q", c)
			}
		}
	})
}
