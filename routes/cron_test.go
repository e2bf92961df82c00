package routes_test

import (
	"net/http"
	"strings"
	"testing"

	"phaseflow/internal/apptest"
)

const cronSecret = "0123456789abcdef0123456789abcdef-test"

func TestCron(t *testing.T) {
	t.Parallel()

	t.Run("without CRON_SECRET the endpoints are disabled", func(t *testing.T) {
		srv := apptest.Start(t, apptest.Config(t))
		for _, h := range []map[string]string{nil, {"Authorization": "Bearer "}, {"Authorization": "Bearer " + cronSecret}} {
			res := srv.Do(t, "POST", "/api/cron/cleanup", nil, h)
			if res.Status != http.StatusServiceUnavailable || !strings.Contains(string(res.Body), "cron endpoints are disabled") &&
				!strings.Contains(string(res.Body), "Cron endpoints are disabled") {
				t.Fatalf("expected 503 disabled, got %d: %s", res.Status, res.Body)
			}
		}
	})

	cfg := apptest.Config(t)
	cfg.CronSecret = cronSecret
	srv := apptest.Start(t, cfg)
	refused := []struct {
		name    string
		headers map[string]string
	}{
		{"no header", nil},
		{"the secret without Bearer", map[string]string{"Authorization": cronSecret}},
		{"a wrong secret", map[string]string{"Authorization": "Bearer " + strings.Repeat("x", len(cronSecret))}},
		{"a prefix of the secret", map[string]string{"Authorization": "Bearer " + cronSecret[:32]}},
		{"the secret with a suffix", map[string]string{"Authorization": "Bearer " + cronSecret + "x"}},
		{"an empty bearer", map[string]string{"Authorization": "Bearer "}},
		{"the secret in a cookie", map[string]string{"Cookie": "Authorization=Bearer " + cronSecret}},
	}
	for _, c := range refused {
		t.Run(c.name+" gets 401", func(t *testing.T) {
			res := srv.Do(t, "POST", "/api/cron/cleanup", nil, c.headers)
			if res.Status != http.StatusUnauthorized {
				t.Fatalf("expected 401, got %d: %s", res.Status, res.Body)
			}
		})
	}
	t.Run("an unknown job is 404 only after authentication", func(t *testing.T) {
		if res := srv.Do(t, "POST", "/api/cron/nope", nil, nil); res.Status != http.StatusUnauthorized {
			t.Fatalf("expected 401 first, got %d", res.Status)
		}
		res := srv.Do(t, "POST", "/api/cron/nope", nil, map[string]string{"Authorization": "Bearer " + cronSecret})
		if res.Status != http.StatusNotFound {
			t.Fatalf("expected 404, got %d: %s", res.Status, res.Body)
		}
	})
	t.Run("GET does not run a job", func(t *testing.T) {
		before := len(apptest.AuthEvents(t, srv.App, "method = 'cron'"))
		res := srv.Do(t, "GET", "/api/cron/cleanup", nil, map[string]string{"Authorization": "Bearer " + cronSecret})
		if res.Status != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
			t.Fatalf("expected 405 with Allow: POST, got %d %q", res.Status, res.Header.Get("Allow"))
		}
		if after := len(apptest.AuthEvents(t, srv.App, "method = 'cron'")); after != before {
			t.Fatalf("expected no run, got %d new audit rows", after-before)
		}
	})
	for range 2 {
		for _, job := range []string{"notifications", "cleanup"} {
			t.Run("POST "+job+" runs and reports", func(t *testing.T) {
				res := srv.Do(t, "POST", "/api/cron/"+job, nil, map[string]string{"Authorization": "Bearer " + cronSecret})
				if res.Status != http.StatusOK {
					t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
				}
				body := res.JSON(t)
				for _, k := range []string{"job", "processed", "sent", "durationMs"} {
					if _, ok := body[k]; !ok {
						t.Fatalf("missing %s in %s", k, res.Body)
					}
				}
				if body["job"] != job {
					t.Fatalf("expected job %s, got %v", job, body["job"])
				}
			})
		}
	}
	t.Run("triggers are audited without the secret; refusals once a minute per client", func(t *testing.T) {
		if evs := apptest.AuthEvents(t, srv.App, "method = 'cron' && outcome = 'success'"); len(evs) != 4 {
			t.Fatalf("expected the 4 runs audited, got %d", len(evs))
		}
		if evs := apptest.AuthEvents(t, srv.App, "method = 'cron' && outcome = 'failure'"); len(evs) != 1 {
			t.Fatalf("expected the refusals audited once, got %d", len(evs))
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'cron'")
		for _, ev := range evs {
			raw, _ := ev.MarshalJSON()
			if strings.Contains(string(raw), cronSecret[:16]) {
				t.Fatalf("an audit row holds the secret: %s", raw)
			}
		}
	})
}
