package routes_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"

	"phaseflow/internal/apptest"
	"phaseflow/routes"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))

	res := srv.Do(t, http.MethodGet, routes.HealthPath, nil, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	if got, want := strings.TrimSpace(string(res.Body)), `{"message":"API and database are healthy.","code":200,"data":{}}`; got != want {
		t.Fatalf("expected %s, got %s", want, got)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Fatalf("expected Cache-Control no-store, got %q", got)
	}

	// The database becomes unusable under the running router: every query now fails, as with a
	// broken disk or a deleted volume.
	for _, b := range []dbx.Builder{srv.App.ConcurrentDB(), srv.App.NonconcurrentDB()} {
		db, ok := b.(*dbx.DB)
		if !ok {
			t.Fatalf("expected the data database to be a *dbx.DB, got %T", b)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	res = srv.Do(t, http.MethodGet, routes.HealthPath, nil, nil)
	if res.Status != http.StatusServiceUnavailable {
		t.Fatalf("expected 503 with the database closed, got %d: %s", res.Status, res.Body)
	}
	if got, want := strings.TrimSpace(string(res.Body)), `{"data":{},"message":"The database is not readable.","status":503}`; got != want {
		t.Fatalf("expected %s (no database error text), got %s", want, got)
	}
	// PocketBase's own health does not read the database, which is why PhaseFlow has its own.
	if res := srv.Do(t, http.MethodGet, "/api/health", nil, nil); res.Status != http.StatusOK {
		t.Fatalf("expected PocketBase's /api/health to stay 200, got %d", res.Status)
	}
}
