package routes_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/internal/apptest"
	"phaseflow/users"
)

// benchMux builds the real router once, with one user who has a profile and a feed, without the
// global middlewares named in unbind.
func benchMux(b *testing.B, unbind ...string) (http.Handler, *core.Record, string, string) {
	b.Helper()
	app := apptest.NewApp(b, apptest.Config(b))
	user := apptest.CreateUser(b, app, "ana@example.com", func(r *core.Record) {
		r.Set(users.FieldLastPeriodDate, "2026-11-01 00:00:00.000Z")
	})
	// Rate limiting would turn a benchmark loop into 429s; measure the handlers.
	app.Settings().RateLimits.Enabled = false
	r, err := apis.NewRouter(app)
	if err != nil {
		b.Fatal(err)
	}
	var mux http.Handler
	if err := app.OnServe().Trigger(&core.ServeEvent{App: app, Router: r}, func(e *core.ServeEvent) error {
		e.Router.Unbind(unbind...)
		m, err := e.Router.BuildMux()
		mux = m
		return err
	}); err != nil {
		b.Fatal(err)
	}
	app.Settings().RateLimits.Enabled = false
	token := apptest.Token(b, app, user)
	req := httptest.NewRequest("POST", "/api/user/calendar-token", strings.NewReader(`{"password":"`+apptest.Password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	feed := rec.Body.String()
	feed = feed[strings.Index(feed, "/api/calendar/") : len(feed)-2]
	return mux, user, token, feed
}

func serve(b *testing.B, mux http.Handler, path string, headers map[string]string, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", path, nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("expected %d, got %d: %s", want, rec.Code, rec.Body)
		}
	}
}

// BenchmarkProfile compares GET /api/user with PocketBase's own record view of the same user with
// the same token, in the same run, with and without the session check (a router built without
// the sessions middleware; the token's session is live either way). Compare the ns/op of the
// sub-benchmarks as ratios.
func BenchmarkProfile(b *testing.B) {
	mux, user, token, _ := benchMux(b)
	unchecked, uncheckedUser, uncheckedToken, _ := benchMux(b, "phaseflowSessions")
	auth := map[string]string{"Authorization": token}
	b.Run("phaseflow_GET_api_user", func(b *testing.B) { serve(b, mux, "/api/user", auth, 200) })
	b.Run("pocketbase_GET_record", func(b *testing.B) {
		serve(b, mux, "/api/collections/users/records/"+user.Id, auth, 200)
	})
	uauth := map[string]string{"Authorization": uncheckedToken}
	b.Run("phaseflow_GET_api_user_without_session_check", func(b *testing.B) { serve(b, unchecked, "/api/user", uauth, 200) })
	b.Run("pocketbase_GET_record_without_session_check", func(b *testing.B) {
		serve(b, unchecked, "/api/collections/users/records/"+uncheckedUser.Id, uauth, 200)
	})
}

// BenchmarkFeed measures the calendar feed, rendered (200) and revalidated (304), next to
// PocketBase's health endpoint as a floor.
func BenchmarkFeed(b *testing.B) {
	mux, _, _, feed := benchMux(b)
	req := httptest.NewRequest("GET", feed, nil)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	etag := rec.Header().Get("ETag")
	b.Run("feed_200", func(b *testing.B) { serve(b, mux, feed, nil, 200) })
	b.Run("feed_304", func(b *testing.B) { serve(b, mux, feed, map[string]string{"If-None-Match": etag}, 304) })
	b.Run("pocketbase_health", func(b *testing.B) { serve(b, mux, "/api/health", nil, 200) })
}
