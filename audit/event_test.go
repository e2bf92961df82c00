package audit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/audit"
	"phaseflow/internal/apptest"
	"phaseflow/retention"
)

func TestDeleteOldAuthEvents(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	for _, reason := range []string{"old", "new"} {
		if err := audit.Write(app, audit.Event{Method: audit.MethodPassword, Outcome: audit.OutcomeSuccess, Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().UTC().AddDate(0, 0, -91).Format(types.DefaultDateLayout)
	if _, err := app.DB().NewQuery("UPDATE auth_events SET created = {:c} WHERE reason = 'old'").Bind(map[string]any{"c": old}).Execute(); err != nil {
		t.Fatal(err)
	}
	n, err := audit.DeleteOld(app, 90, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("expected 1 deleted, got %d, %v", n, err)
	}
	left := apptest.AuthEvents(t, app, "")
	if len(left) != 1 || left[0].GetString("reason") != "new" {
		t.Fatalf("expected only the new event, got %d", len(left))
	}
}

// TestDeleteOldAuthEventsInSteps deletes more rows than one retention step holds: every expired
// row goes, and the rows at the cutoff and after it stay.
func TestDeleteOldAuthEventsInSteps(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cutoff := now.AddDate(0, 0, -90)
	expired := 2*retention.Batch + 345
	insert := func(n int, at time.Time, reason string) {
		t.Helper()
		for i := range n {
			if _, err := app.DB().Insert(audit.Collection, dbx.Params{
				"id": fmt.Sprintf("%s%011d", reason[:4], i), audit.FieldMethod: audit.MethodPassword, audit.FieldOutcome: audit.OutcomeFailure,
				audit.FieldReason: reason, audit.FieldCreated: at.Add(-time.Duration(i) * time.Second).Format(types.DefaultDateLayout),
			}).Execute(); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert(expired, cutoff.Add(-time.Second), "expired")
	insert(1, cutoff, "atcut")
	insert(10, now, "kept")

	n, err := audit.DeleteOld(app, 90, now)
	if err != nil || n != int64(expired) {
		t.Fatalf("expected %d deleted, got %d, %v", expired, n, err)
	}
	var left []struct{ Reason string }
	if err := app.DB().NewQuery("SELECT reason FROM auth_events").All(&left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 11 {
		t.Fatalf("expected the 11 rows at and after the cutoff left, got %d", len(left))
	}
	for _, r := range left {
		if r.Reason == "expired" {
			t.Fatal("an expired row is left")
		}
	}
}
