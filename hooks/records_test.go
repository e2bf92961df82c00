package hooks_test

import (
	"net/http"
	"strings"
	"testing"

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

	t.Run("open registration lets a password sign-up create an account with defaults", func(t *testing.T) {
		cfg := apptest.Config(t)
		cfg.OpenRegistration = true
		srv := apptest.Start(t, cfg)
		res := srv.Do(t, "POST", "/api/collections/users/records", map[string]any{
			"email": "new@example.com", "password": "long-enough-pass", "passwordConfirm": "long-enough-pass"}, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		u, err := srv.App.FindAuthRecordByEmail(users.Collection, "new@example.com")
		if err != nil || u.GetInt(users.FieldCycleLength) != 28 || !u.GetBool(users.FieldApproved) {
			t.Fatalf("expected an approved account with defaults, got %v", err)
		}
	})

	t.Run("open registration refuses server-owned fields at sign-up", func(t *testing.T) {
		cfg := apptest.Config(t)
		cfg.OpenRegistration = true
		srv := apptest.Start(t, cfg)
		for _, f := range []string{users.FieldGarminConnected, users.FieldApproved, users.FieldMFA, "verified"} {
			res := srv.Do(t, "POST", "/api/collections/users/records", map[string]any{
				"email": "x@example.com", "password": "long-enough-pass", "passwordConfirm": "long-enough-pass", f: true}, nil)
			if res.Status != http.StatusBadRequest {
				t.Fatalf("%s: expected 400, got %d: %s", f, res.Status, res.Body)
			}
		}
		if n, _ := srv.App.CountRecords(users.Collection); n != 0 {
			t.Fatalf("expected no account, got %d", n)
		}
	})

	t.Run("with approval, a new account cannot sign in until approved", func(t *testing.T) {
		cfg := apptest.Config(t)
		cfg.OpenRegistration = true
		cfg.RegistrationApproval = true
		srv := apptest.Start(t, cfg)
		res := srv.Do(t, "POST", "/api/collections/users/records", map[string]any{
			"email": "new@example.com", "password": "long-enough-pass", "passwordConfirm": "long-enough-pass"}, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("sign-up: expected 200, got %d: %s", res.Status, res.Body)
		}
		login := func() int {
			return srv.Do(t, "POST", "/api/collections/users/auth-with-password",
				map[string]string{"identity": "new@example.com", "password": "long-enough-pass"}, nil).Status
		}
		if got := login(); got != http.StatusForbidden {
			t.Fatalf("expected 403 before approval, got %d", got)
		}
		u, _ := srv.App.FindAuthRecordByEmail(users.Collection, "new@example.com")
		u.Set(users.FieldApproved, true)
		if err := srv.App.Save(u); err != nil {
			t.Fatal(err)
		}
		if got := login(); got != http.StatusOK {
			t.Fatalf("expected 200 after approval, got %d", got)
		}
	})
}
