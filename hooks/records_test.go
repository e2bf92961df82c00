package hooks_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/internal/apptest"
	"phaseflow/users"
)

// TestRecordAPICannotBypassProfileRules attacks PocketBase's built-in record API, which stays
// reachable next to /api/user.
func TestRecordAPICannotBypassProfileRules(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")
	auth := map[string]string{"Authorization": apptest.Token(t, srv.App, ana)}

	refused := []struct {
		name   string
		method string
		path   string
		body   map[string]any
		status int
	}{
		// A failed update rule makes PocketBase answer 404, as if the record were not there.
		{"set garminConnected", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"garminConnected": true}, 404},
		{"set approved", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"approved": false}, 404},
		{"turn mfa on or off", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"mfa": true}, 404},
		{"set verified", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"verified": false}, 404},
		{"set a server field next to an allowed one", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"name": "x", "garminConnected": true}, 404},
		{"cycleLength below range", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"cycleLength": 10}, 400},
		{"cycleLength above range", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"cycleLength": 61}, 400},
		{"bad notificationTime", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"notificationTime": "25:00"}, 400},
		{"bad timezone", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"timezone": "Mars/Olympus"}, 400},
		{"last period in the future", "PATCH", "/api/collections/users/records/" + ana.Id, map[string]any{"lastPeriodDate": "2999-01-01"}, 400},
		{"edit another user", "PATCH", "/api/collections/users/records/" + bob.Id, map[string]any{"cycleLength": 30}, 404},
		{"view another user", "GET", "/api/collections/users/records/" + bob.Id, nil, 404},
		{"delete own account", "DELETE", "/api/collections/users/records/" + ana.Id, nil, 403},
		{"sign up while registration is closed", "POST", "/api/collections/users/records",
			map[string]any{"email": "new@example.com", "password": "long-enough-pass", "passwordConfirm": "long-enough-pass"}, 403},
	}
	before := apptest.UsersSnapshot(t, srv.App)
	for _, c := range refused {
		t.Run(c.name+" is refused", func(t *testing.T) {
			var body any
			if c.body != nil {
				body = c.body
			}
			res := srv.Do(t, c.method, c.path, body, auth)
			if res.Status != c.status {
				t.Fatalf("expected %d, got %d: %s", c.status, res.Status, res.Body)
			}
		})
	}
	if after := apptest.UsersSnapshot(t, srv.App); after != before {
		t.Fatalf("expected no change after refused requests:\nbefore %s\nafter  %s", before, after)
	}

	t.Run("hidden server fields in the body are ignored", func(t *testing.T) {
		for _, f := range []string{users.FieldCalendarTokenHash, users.FieldLastNotifiedOn} {
			srv.Do(t, "PATCH", "/api/collections/users/records/"+ana.Id, map[string]any{f: "2020-01-01"}, auth)
			r, _ := srv.App.FindRecordById(users.Collection, ana.Id)
			if r.GetString(f) != "" {
				t.Fatalf("expected %s to stay empty, got %q", f, r.GetString(f))
			}
		}
	})

	t.Run("the list shows only the caller and no hidden fields", func(t *testing.T) {
		res := srv.Do(t, "GET", "/api/collections/users/records", nil, auth)
		if res.Status != http.StatusOK || strings.Contains(string(res.Body), bob.Id) || strings.Contains(string(res.Body), "calendarTokenHash") {
			t.Fatalf("expected only ana without hidden fields, got %d: %s", res.Status, res.Body)
		}
	})

	t.Run("the owner may still edit allowed fields", func(t *testing.T) {
		res := srv.Do(t, "PATCH", "/api/collections/users/records/"+ana.Id, map[string]any{"name": "Ana", "cycleLength": 30}, auth)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
	})

	t.Run("profile invariants hold for Go writes too", func(t *testing.T) {
		r, _ := srv.App.FindRecordById(users.Collection, bob.Id)
		r.Set(users.FieldTimezone, "Local")
		if err := srv.App.Save(r); err == nil {
			t.Fatal("expected the model hook to refuse timezone Local")
		}
	})
}

func TestRegistrationPolicy(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.OpenRegistration = true
	cfg.RegistrationApproval = true
	srv := apptest.Start(t, cfg)

	t.Run("open registration still refuses a record API sign-up, with a sentence", func(t *testing.T) {
		col, err := srv.App.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			t.Fatal(err)
		}
		for _, extra := range []string{"", users.FieldGarminConnected, users.FieldApproved, users.FieldMFA, users.FieldVerified} {
			body := map[string]any{"email": "new@example.com", "password": "lantern otter violet", "passwordConfirm": "lantern otter violet"}
			if extra != "" {
				body[extra] = true
			}
			for _, path := range []string{"/api/collections/users/records", "/api/collections/" + col.Id + "/records"} {
				res := srv.Do(t, "POST", path, body, nil)
				if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), "sign-up page") {
					t.Fatalf("%s with %q: expected 403 naming the sign-up page, got %d: %s", path, extra, res.Status, res.Body)
				}
			}
		}
		if n, _ := srv.App.CountRecords(users.Collection); n != 0 {
			t.Fatalf("expected no account, got %d", n)
		}
	})

	t.Run("a superuser may still create an account there", func(t *testing.T) {
		admin := apptest.CreateSuperuser(t, srv.App, "root@example.com")
		res := srv.Do(t, "POST", "/api/collections/users/records", map[string]any{
			"email": "made@example.com", "password": "lantern otter violet", "passwordConfirm": "lantern otter violet", "approved": true,
		}, map[string]string{"Authorization": apptest.Token(t, srv.App, admin)})
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
	})

	t.Run("with approval, an account cannot sign in until approved", func(t *testing.T) {
		apptest.CreateUser(t, srv.App, "waiting@example.com", func(r *core.Record) { r.Set(users.FieldApproved, false) })
		login := func() int {
			return srv.Do(t, "POST", "/api/collections/users/auth-with-password",
				map[string]string{"identity": "waiting@example.com", "password": apptest.Password}, nil).Status
		}
		if got := login(); got != http.StatusForbidden {
			t.Fatalf("expected 403 before approval, got %d", got)
		}
		u, _ := srv.App.FindAuthRecordByEmail(users.Collection, "waiting@example.com")
		u.Set(users.FieldApproved, true)
		if err := srv.App.Save(u); err != nil {
			t.Fatal(err)
		}
		if got := login(); got != http.StatusOK {
			t.Fatalf("expected 200 after approval, got %d", got)
		}
	})
}
