package routes

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
)

// securityHeaders adds Cache-Control: no-store to every /api/ answer (account data, tokens, auth
// responses, PocketBase's record API) unless the handler sets its own (the calendar feed, which
// is meant to be cached privately). HSTS has its own middleware (hsts.go), bound earlier.
func securityHeaders(e *core.RequestEvent) error {
	if strings.HasPrefix(e.Request.URL.Path, "/api/") {
		e.Response.Header().Set("Cache-Control", "no-store")
	}
	return e.Next()
}

// phaseflowAPI reports whether path is one of PhaseFlow's own API routes (not PocketBase's).
func phaseflowAPI(path string) bool {
	for _, p := range []string{"/api/user", "/api/signup", "/api/cron/", "/api/calendar/", "/api/app-config"} {
		if path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// corsForAppURL limits cross-origin use of PhaseFlow's own routes to APP_URL's origin. It runs
// before PocketBase's CORS middleware (whose --origins default "*" stays for PocketBase's own
// API): for PhaseFlow's routes it answers preflights itself and hides the Origin header from
// PocketBase's middleware, so a foreign origin gets no Access-Control-Allow-Origin at all.
func corsForAppURL(cfg config.Config) func(*core.RequestEvent) error {
	allowed := originOf(cfg.AppURL)
	return func(e *core.RequestEvent) error {
		origin := e.Request.Header.Get("Origin")
		if origin == "" || !phaseflowAPI(e.Request.URL.Path) {
			return e.Next()
		}
		h := e.Response.Header()
		h.Add("Vary", "Origin")
		ok := origin == allowed
		if ok {
			h.Set("Access-Control-Allow-Origin", allowed)
		}
		if e.Request.Method == http.MethodOptions {
			if ok {
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			}
			return e.NoContent(http.StatusNoContent)
		}
		e.Request.Header.Del("Origin")
		return e.Next()
	}
}

func originOf(appURL string) string {
	u, err := url.Parse(appURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
