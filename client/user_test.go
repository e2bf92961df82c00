package client_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"phaseflow/client"
	"phaseflow/config"
	"phaseflow/internal/apptest"
)

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	c, user := signIn(t, srv, "ana@example.com")
	lastPeriod := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)

	t.Run("a patch sets exactly the given fields", func(t *testing.T) {
		got, err := c.UpdateUser(t.Context(), client.ProfilePatch{
			CycleLength: new(31), LastPeriodDate: new(lastPeriod), NotificationTime: new("07:45"), Timezone: new("Europe/Berlin"),
		})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		want := client.Profile{ID: user.Id, Email: "ana@example.com", CycleLength: 31, LastPeriodDate: lastPeriod,
			NotificationTime: "07:45", Timezone: "Europe/Berlin"}
		if got != want {
			t.Fatalf("expected %+v, got %+v", want, got)
		}
		if again, err := c.User(t.Context()); err != nil || again != want {
			t.Fatalf("expected User to return %+v, got %+v %v", want, again, err)
		}
	})

	t.Run("ClearLastPeriodDate and an empty NotificationTime clear those fields only", func(t *testing.T) {
		got, err := c.UpdateUser(t.Context(), client.ProfilePatch{ClearLastPeriodDate: true, NotificationTime: new("")})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		want := client.Profile{ID: user.Id, Email: "ana@example.com", CycleLength: 31, Timezone: "Europe/Berlin"}
		if got != want {
			t.Fatalf("expected %+v, got %+v", want, got)
		}
	})

	t.Run("PATCH /api/user with cycleLength 10 is a 400 *Error naming the field, and changes nothing", func(t *testing.T) {
		before := apptest.UsersSnapshot(t, srv.App)
		_, err := c.UpdateUser(t.Context(), client.ProfilePatch{CycleLength: new(10), Timezone: new("Mars/Olympus")})
		var apiErr *client.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("expected a *client.Error, got %T %v", err, err)
		}
		want := map[string]client.FieldError{
			"cycleLength": {Code: "validation_out_of_range", Message: "Must be between 20 and 60 days."},
			"timezone":    {Code: "validation_invalid_timezone", Message: "Must be an IANA time zone name, such as Europe/Berlin."},
		}
		if apiErr.Status != http.StatusBadRequest || apiErr.Message != "Invalid profile update." || len(apiErr.Data) != len(want) {
			t.Fatalf("expected 400 \"Invalid profile update.\" with 2 field errors, got %+v", apiErr)
		}
		for field, fe := range want {
			if apiErr.Data[field] != fe {
				t.Fatalf("%s: expected %+v, got %+v", field, fe, apiErr.Data[field])
			}
		}
		wantText := "server answered 400 Bad Request: Invalid profile update. (cycleLength: Must be between 20 and 60 days.; " +
			"timezone: Must be an IANA time zone name, such as Europe/Berlin.)"
		if err.Error() != wantText {
			t.Fatalf("expected %q, got %q", wantText, err.Error())
		}
		if after := apptest.UsersSnapshot(t, srv.App); after != before {
			t.Fatal("a refused patch changed the users table")
		}
	})

	t.Run("an empty patch is refused by the server", func(t *testing.T) {
		_, err := c.UpdateUser(t.Context(), client.ProfilePatch{})
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Data["body"].Code != "validation_nothing_to_update" {
			t.Fatalf("expected 400 with body: validation_nothing_to_update, got %v", err)
		}
	})

	t.Run("setting and clearing the date at once is refused before sending", func(t *testing.T) {
		_, err := c.UpdateUser(t.Context(), client.ProfilePatch{LastPeriodDate: new(lastPeriod), ClearLastPeriodDate: true})
		if err == nil || client.StatusCode(err) != 0 {
			t.Fatalf("expected a local error, got %v", err)
		}
	})
}

func TestCycle(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	c, _ := signIn(t, srv, "ana@example.com")

	t.Run("without a last period date only the date is known", func(t *testing.T) {
		s, err := c.Cycle(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if s.Date == "" || s.CycleDay != 0 || s.Phase != "" || s.NextPeriod != "" {
			t.Fatalf("expected only today's date, got %+v", s)
		}
	})

	t.Run("nine days after the period started it is day 10, follicular", func(t *testing.T) {
		last := time.Now().UTC().AddDate(0, 0, -9)
		if _, err := c.UpdateUser(t.Context(), client.ProfilePatch{LastPeriodDate: new(last.Format(time.DateOnly))}); err != nil {
			t.Fatal(err)
		}
		s, err := c.Cycle(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		today, err := time.Parse(time.DateOnly, s.Date)
		if err != nil {
			t.Fatalf("expected a date, got %q", s.Date)
		}
		// Computed from the server's today, which may have passed midnight since last was set.
		day := int(today.Sub(time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)).Hours()/24) + 1
		if day != 10 && day != 11 {
			t.Fatalf("the server's today %s is not near ours", s.Date)
		}
		want := client.CycleStatus{Date: s.Date, CycleDay: day, Phase: "follicular", NextPeriod: last.AddDate(0, 0, 28).Format(time.DateOnly)}
		if s != want {
			t.Fatalf("expected %+v, got %+v", want, s)
		}
	})
}

func TestCalendarToken(t *testing.T) {
	t.Parallel()
	srv, cfg := startServer(t)
	c, user := signIn(t, srv, "ana@example.com")

	if active, err := c.CalendarToken(t.Context()); err != nil || active {
		t.Fatalf("expected no feed, got %v %v", active, err)
	}
	feedURL, err := c.CreateCalendarToken(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	pattern := regexp.MustCompile(`^` + regexp.QuoteMeta(cfg.AppURL+"/api/calendar/"+user.Id+"/") + `[A-Za-z0-9_-]{43}\.ics$`)
	if !pattern.MatchString(feedURL) {
		t.Fatalf("expected a feed URL matching %s, got %q", pattern, feedURL)
	}
	if active, err := c.CalendarToken(t.Context()); err != nil || !active {
		t.Fatalf("expected an active feed, got %v %v", active, err)
	}
	feed := srv.URL + strings.TrimPrefix(feedURL, cfg.AppURL)
	if got := status(t, feed); got != http.StatusOK {
		t.Fatalf("expected the feed to answer 200, got %d", got)
	}

	if err := c.DeleteCalendarToken(t.Context()); err != nil {
		t.Fatal(err)
	}
	if active, err := c.CalendarToken(t.Context()); err != nil || active {
		t.Fatalf("expected the feed revoked, got %v %v", active, err)
	}
	if got := status(t, feed); got != http.StatusNotFound {
		t.Fatalf("expected the revoked feed to answer 404, got %d", got)
	}
}

// status GETs url without a token and returns the status code.
func status(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestSecondFactorSwitch(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	c, _ := signIn(t, srv, "ana@example.com")

	steps := []struct {
		name     string
		enabled  bool
		password string
		status   int
		want     client.MFAState
	}{
		{"turning it on needs only the token", true, "", 0, client.MFAState{Enabled: true, Available: true}},
		{"a wrong password cannot turn it off", false, "wrong-password-123", http.StatusBadRequest, client.MFAState{Enabled: true, Available: true}},
		{"the current password turns it off", false, apptest.Password, 0, client.MFAState{Enabled: false, Available: true}},
		{"it is on again", true, "", 0, client.MFAState{Enabled: true, Available: true}},
		{"a recent sign-in turns it off without a password", false, "", 0, client.MFAState{Enabled: false, Available: true}},
	}
	if s, err := c.MFA(t.Context()); err != nil || s != (client.MFAState{Available: true}) {
		t.Fatalf("expected it off and available, got %+v %v", s, err)
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			_, err := c.SetMFA(t.Context(), step.enabled, step.password)
			if got := client.StatusCode(err); got != step.status {
				t.Fatalf("expected status %d, got %d (%v)", step.status, got, err)
			}
			if err != nil && step.password != "" && strings.Contains(err.Error(), step.password) {
				t.Fatal("the error shows the password")
			}
			if s, err := c.MFA(t.Context()); err != nil || s != step.want {
				t.Fatalf("expected %+v, got %+v %v", step.want, s, err)
			}
		})
	}
}

func TestExportAndDeleteAccount(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t, func(c *config.Config) { c.AuthRateLimit = 100 })
	c, user := signIn(t, srv, "ana@example.com")

	t.Run("Export returns the document with the profile right after a sign-in", func(t *testing.T) {
		raw, err := c.Export(t.Context())
		if err != nil {
			t.Fatalf("Export: %v", err)
		}
		var doc struct {
			Format  string         `json:"format"`
			Version int            `json:"version"`
			Profile client.Profile `json:"profile"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil || doc.Format != "phaseflow-account-export" || doc.Version != 1 ||
			doc.Profile.ID != user.Id || doc.Profile.Email != "ana@example.com" {
			t.Fatalf("unexpected export %s: %v", raw, err)
		}
	})
	t.Run("DeleteAccount with another email is a 400 naming confirmEmail, and keeps the token", func(t *testing.T) {
		err := c.DeleteAccount(t.Context(), "bob@example.com", "")
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Data["confirmEmail"].Message == "" {
			t.Fatalf("expected a 400 naming confirmEmail, got %v", err)
		}
		if c.Token() == "" {
			t.Fatal("a refused deletion dropped the token")
		}
	})
	t.Run("DeleteAccount deletes the account and drops the token", func(t *testing.T) {
		if err := c.DeleteAccount(t.Context(), "ana@example.com", ""); err != nil {
			t.Fatalf("DeleteAccount: %v", err)
		}
		if c.Token() != "" {
			t.Fatal("expected the token to be dropped")
		}
		if _, err := srv.App.FindRecordById("users", user.Id); err == nil {
			t.Fatal("expected the account to be gone")
		}
	})
}
