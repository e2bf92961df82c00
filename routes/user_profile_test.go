package routes_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/cycle"
	"phaseflow/internal/apptest"
	"phaseflow/users"
)

// profileKeys is the exact /api/user contract.
var profileKeys = []string{"cycleLength", "email", "garminConnected", "id", "lastPeriodDate", "notificationTime", "timezone"}

func TestUserView(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) {
		r.Set(users.FieldLastPeriodDate, "2026-11-01 00:00:00.000Z")
		r.Set(users.FieldTimezone, "Europe/Berlin")
	})
	superuser := apptest.CreateSuperuser(t, srv.App, "root@example.com")

	t.Run("returns exactly the contract", func(t *testing.T) {
		res := srv.Do(t, "GET", "/api/user", nil, map[string]string{"Authorization": apptest.Token(t, srv.App, ana)})
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("expected Cache-Control no-store, got %q", cc)
		}
		body := res.JSON(t)
		if len(body) != len(profileKeys) {
			t.Fatalf("expected keys %v, got %v", profileKeys, body)
		}
		for _, k := range profileKeys {
			if _, ok := body[k]; !ok {
				t.Fatalf("missing %s in %s", k, res.Body)
			}
		}
		if body["id"] != ana.Id || body["lastPeriodDate"] != "2026-11-01" || body["cycleLength"] != 28.0 || body["timezone"] != "Europe/Berlin" {
			t.Fatalf("unexpected profile %s", res.Body)
		}
	})
	t.Run("lastPeriodDate is null when unset", func(t *testing.T) {
		bob := apptest.CreateUser(t, srv.App, "bob@example.com")
		res := srv.Do(t, "GET", "/api/user", nil, map[string]string{"Authorization": "Bearer " + apptest.Token(t, srv.App, bob)})
		if !strings.Contains(string(res.Body), `"lastPeriodDate":null`) {
			t.Fatalf("expected null, got %s", res.Body)
		}
	})

	refused := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"no token", nil, 401},
		{"a garbage token", map[string]string{"Authorization": "not-a-token"}, 401},
		{"a tampered token", map[string]string{"Authorization": apptest.Token(t, srv.App, ana) + "x"}, 401},
		{"an expired token", map[string]string{"Authorization": apptest.SignToken(t, ana, -time.Minute, map[string]any{"sid": apptest.Session(t, srv.App, ana)})}, 401},
		{"the pb_auth cookie alone", map[string]string{"Cookie": "pb_auth=" + apptest.Token(t, srv.App, ana)}, 401},
		{"a superuser token", map[string]string{"Authorization": apptest.Token(t, srv.App, superuser)}, 403},
	}
	for _, c := range refused {
		t.Run(c.name+" is refused", func(t *testing.T) {
			res := srv.Do(t, "GET", "/api/user", nil, c.headers)
			if res.Status != c.status || strings.Contains(string(res.Body), ana.Email()) {
				t.Fatalf("expected %d without the profile, got %d: %s", c.status, res.Status, res.Body)
			}
			if msg, _ := res.JSON(t)["message"].(string); !strings.HasSuffix(msg, ".") || len(msg) < 20 {
				t.Fatalf("expected a clear sentence, got %q", msg)
			}
		})
	}
}

func TestUserUpdate(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	auth := map[string]string{"Authorization": apptest.Token(t, srv.App, ana)}

	t.Run("a partial update saves and returns the profile", func(t *testing.T) {
		res := srv.Do(t, "PATCH", "/api/user", `{"cycleLength":31,"lastPeriodDate":"2026-11-03","notificationTime":"07:30","timezone":"America/New_York"}`, auth)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		want := `{"id":"` + ana.Id + `","email":"ana@example.com","garminConnected":false,"cycleLength":31,"lastPeriodDate":"2026-11-03","notificationTime":"07:30","timezone":"America/New_York"}`
		if string(res.Body) != want {
			t.Fatalf("expected %s, got %s", want, res.Body)
		}
		again := srv.Do(t, "GET", "/api/user", nil, auth)
		if string(again.Body) != want {
			t.Fatalf("expected the saved profile, got %s", again.Body)
		}
	})
	t.Run("lastPeriodDate null clears it", func(t *testing.T) {
		res := srv.Do(t, "PATCH", "/api/user", `{"lastPeriodDate":null}`, auth)
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"lastPeriodDate":null`) {
			t.Fatalf("expected cleared, got %d: %s", res.Status, res.Body)
		}
	})

	tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	refused := []struct {
		name, body, field string
		status            int
	}{
		{"cycleLength 10", `{"cycleLength":10}`, "cycleLength", 400},
		{"cycleLength 61", `{"cycleLength":61}`, "cycleLength", 400},
		{"cycleLength as a string", `{"cycleLength":"28"}`, "cycleLength", 400},
		{"cycleLength 28.5", `{"cycleLength":28.5}`, "cycleLength", 400},
		{"an impossible date", `{"lastPeriodDate":"2026-02-30"}`, "lastPeriodDate", 400},
		{"a future date", `{"lastPeriodDate":"` + tomorrow + `"}`, "lastPeriodDate", 400},
		{"a date with a time", `{"lastPeriodDate":"2026-11-01T00:00:00Z"}`, "lastPeriodDate", 400},
		// PocketBase stores the zero time as an empty date: it would be cleared, not stored.
		{"the year 0001", `{"lastPeriodDate":"0001-01-01"}`, "lastPeriodDate", 400},
		{"a date before 1900", `{"lastPeriodDate":"1899-12-31"}`, "lastPeriodDate", 400},
		{"notificationTime 24:00", `{"notificationTime":"24:00"}`, "notificationTime", 400},
		{"notificationTime 7:30", `{"notificationTime":"7:30"}`, "notificationTime", 400},
		{"an unknown zone", `{"timezone":"Europe/Atlantis"}`, "timezone", 400},
		{"timezone Local", `{"timezone":"Local"}`, "timezone", 400},
		{"email", `{"email":"evil@example.com"}`, "email", 400},
		{"garminConnected", `{"garminConnected":true}`, "garminConnected", 400},
		{"id", `{"id":"` + bob.Id + `"}`, "id", 400},
		{"mfa", `{"mfa":false}`, "mfa", 400},
		{"an unknown field", `{"cycleLenght":30}`, "cycleLenght", 400},
		{"a valid field next to a read-only one", `{"cycleLength":30,"email":"evil@example.com"}`, "email", 400},
		{"a differently cased name", `{"CycleLength":30}`, "CycleLength", 400},
		{"a duplicated field", `{"cycleLength":30,"cycleLength":31}`, "cycleLength", 400},
		{"malformed JSON", `{"cycleLength":`, "body", 400},
		{"a JSON array", `[1,2]`, "body", 400},
		{"an empty object", `{}`, "body", 400},
		{"an empty body", ``, "body", 400},
	}
	before := apptest.UsersSnapshot(t, srv.App)
	for _, c := range refused {
		t.Run(c.name+" is refused naming the field", func(t *testing.T) {
			res := srv.Do(t, "PATCH", "/api/user", c.body, auth)
			if res.Status != c.status {
				t.Fatalf("expected %d, got %d: %s", c.status, res.Status, res.Body)
			}
			data, _ := res.JSON(t)["data"].(map[string]any)
			field, _ := data[c.field].(map[string]any)
			if field == nil || field["code"] == "" || field["message"] == "" {
				t.Fatalf("expected an error for %q in data, got %s", c.field, res.Body)
			}
		})
	}
	t.Run("a body over the limit gets 413", func(t *testing.T) {
		res := srv.Do(t, "PATCH", "/api/user", `{"timezone":"`+strings.Repeat("a", 8<<10)+`"}`, auth)
		if res.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("expected 413, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("without a token nothing is updated", func(t *testing.T) {
		res := srv.Do(t, "PATCH", "/api/user", `{"cycleLength":30}`, nil)
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("expected 401, got %d", res.Status)
		}
	})
	t.Run("the cookie cannot drive an update", func(t *testing.T) {
		res := srv.Do(t, "PATCH", "/api/user", `{"cycleLength":30}`, map[string]string{"Cookie": "pb_auth=" + apptest.Token(t, srv.App, ana)})
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("expected 401, got %d", res.Status)
		}
	})
	if after := apptest.UsersSnapshot(t, srv.App); after != before {
		t.Fatalf("a refused request changed data:\nbefore %s\nafter  %s", before, after)
	}
	t.Run("user A's token only ever changes A", func(t *testing.T) {
		res := srv.Do(t, "PATCH", "/api/user", `{"cycleLength":45}`, auth)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d", res.Status)
		}
		b, _ := srv.App.FindRecordById(users.Collection, bob.Id)
		if b.GetInt(users.FieldCycleLength) != cycle.DefaultCycleLength {
			t.Fatalf("bob changed: %d", b.GetInt(users.FieldCycleLength))
		}
	})
}

func TestUserCycle(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	today := time.Now().In(mustZone(t, "Pacific/Auckland"))
	last := today.AddDate(0, 0, -9).Format(time.DateOnly)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) {
		r.Set(users.FieldLastPeriodDate, last+" 00:00:00.000Z")
		r.Set(users.FieldTimezone, "Pacific/Auckland")
	})
	res := srv.Do(t, "GET", "/api/user/cycle", nil, map[string]string{"Authorization": apptest.Token(t, srv.App, ana)})
	want := `{"date":"` + today.Format(time.DateOnly) + `","cycleDay":10,"phase":"follicular","nextPeriod":"` + today.AddDate(0, 0, 19).Format(time.DateOnly) + `"}`
	if res.Status != http.StatusOK || string(res.Body) != want {
		t.Fatalf("expected %s, got %d: %s", want, res.Status, res.Body)
	}
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	res = srv.Do(t, "GET", "/api/user/cycle", nil, map[string]string{"Authorization": apptest.Token(t, srv.App, bob)})
	if !strings.Contains(string(res.Body), `"cycleDay":null,"phase":null,"nextPeriod":null`) {
		t.Fatalf("expected nulls without a last period, got %s", res.Body)
	}
	if res := srv.Do(t, "GET", "/api/user/cycle", nil, nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("expected 401 without a token, got %d", res.Status)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
