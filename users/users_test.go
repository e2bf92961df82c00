package users_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/cycle"
	"phaseflow/internal/apptest"
	"phaseflow/users"
)

func TestCycleMappingRoundTrip(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	u := apptest.CreateUser(t, app, "ana@example.com")
	d := cycle.Date{Year: 2026, Month: time.November, Day: 3}
	cases := []cycle.Profile{
		{CycleLength: 31, LastPeriodDate: &d, NotificationTime: "07:30", Timezone: "Europe/Berlin"},
		{CycleLength: 28, Timezone: "UTC"},
	}
	for _, want := range cases {
		users.SetCycle(u, want)
		if err := app.Save(u); err != nil {
			t.Fatal(err)
		}
		fresh, _ := app.FindRecordById(users.Collection, u.Id)
		got := users.Cycle(fresh)
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Fatalf("expected %s, got %s", wantJSON, gotJSON)
		}
	}
}

func TestProfileOfIsTheContract(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	u := apptest.CreateUser(t, app, "ana@example.com", func(r *core.Record) {
		r.Set(users.FieldLastPeriodDate, "2026-11-03 00:00:00.000Z")
		r.Set(users.FieldTimezone, "Europe/Berlin")
	})
	raw, err := json.Marshal(users.ProfileOf(u))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"` + u.Id + `","email":"ana@example.com","garminConnected":false,"cycleLength":28,` +
		`"lastPeriodDate":"2026-11-03","notificationTime":"","timezone":"Europe/Berlin"}`
	if string(raw) != want {
		t.Fatalf("expected %s, got %s", want, raw)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	ana := apptest.CreateUser(t, app, "ana@example.com")

	t.Run("a stale auth record whose token key changed writes nothing", func(t *testing.T) {
		stale, _ := app.FindRecordById(users.Collection, ana.Id)
		fresh, _ := app.FindRecordById(users.Collection, ana.Id)
		fresh.RefreshTokenKey()
		if err := app.Save(fresh); err != nil {
			t.Fatal(err)
		}
		_, err := users.Update(app, stale, func(r *core.Record) error {
			r.Set(users.FieldCycleLength, 40)
			return nil
		})
		if !errors.Is(err, users.ErrSessionEnded) {
			t.Fatalf("expected ErrSessionEnded, got %v", err)
		}
		after, _ := app.FindRecordById(users.Collection, ana.Id)
		if after.GetInt(users.FieldCycleLength) != 28 {
			t.Fatalf("expected nothing written, got cycle length %d", after.GetInt(users.FieldCycleLength))
		}
	})

	t.Run("an invalid value comes back as field errors and is not saved", func(t *testing.T) {
		current, _ := app.FindRecordById(users.Collection, ana.Id)
		_, err := users.Update(app, current, func(r *core.Record) error {
			r.Set(users.FieldTimezone, "Mars/Olympus")
			return nil
		})
		var fields validation.Errors
		if !errors.As(err, &fields) || fields[users.FieldTimezone] == nil {
			t.Fatalf("expected a timezone field error, got %v", err)
		}
		after, _ := app.FindRecordById(users.Collection, ana.Id)
		if after.GetString(users.FieldTimezone) != "UTC" {
			t.Fatalf("expected the time zone unchanged, got %q", after.GetString(users.FieldTimezone))
		}
	})

	t.Run("a deleted account is an ended session", func(t *testing.T) {
		bob := apptest.CreateUser(t, app, "bob@example.com")
		if err := app.Delete(bob); err != nil {
			t.Fatal(err)
		}
		if _, err := users.Update(app, bob, func(*core.Record) error { return nil }); !errors.Is(err, users.ErrSessionEnded) {
			t.Fatalf("expected ErrSessionEnded, got %v", err)
		}
	})
}

func TestSessionTokenCarriesAuthTimeAndSessionID(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	ana := apptest.CreateUser(t, app, "ana@example.com")
	at := time.Now().Add(-time.Hour).Unix()
	tok, err := users.NewSessionToken(ana, users.SessionClaims{AuthTime: at, SessionID: "sid123", Refreshable: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.FindAuthRecordByToken(tok, core.TokenTypeAuth); err != nil {
		t.Fatalf("expected PocketBase to accept the token: %v", err)
	}
	if got, ok := users.AuthTime(tok); !ok || got != at {
		t.Fatalf("expected authTime %d, got %d (%t)", at, got, ok)
	}
	if got := users.SessionID(tok); got != "sid123" {
		t.Fatalf("expected sid sid123, got %q", got)
	}
	own, _ := ana.NewAuthToken()
	if _, ok := users.AuthTime(own); ok || users.SessionID(own) != "" {
		t.Fatal("expected PocketBase's own token to carry neither authTime nor sid")
	}
}
