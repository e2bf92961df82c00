package audit_test

import (
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/audit"
	"phaseflow/internal/apptest"
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
