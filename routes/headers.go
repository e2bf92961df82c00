package routes

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
)

// hstsValue asks browsers to use https only, for a year, on APP_URL's host and its subdomains.
const hstsValue = "max-age=31536000; includeSubDomains"

// securityHeaders adds what every answer of PhaseFlow carries on top of PocketBase's own headers:
// Strict-Transport-Security when APP_URL is https, and Cache-Control: no-store on every /api/
// answer (account data, tokens, auth responses, PocketBase's record API) unless the handler
// sets its own (the calendar feed, which is meant to be cached privately).
func securityHeaders(cfg config.Config) func(*core.RequestEvent) error {
	https := strings.HasPrefix(cfg.AppURL, "https://")
	return func(e *core.RequestEvent) error {
		h := e.Response.Header()
		if https {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		if strings.HasPrefix(e.Request.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		return e.Next()
	}
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
