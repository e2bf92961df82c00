package routes

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// HSTSValue is the Strict-Transport-Security header sent when APP_URL is https: browsers keep to
// https for a year on APP_URL's host and its subdomains. It does not ask for preloading (the
// operator's decision, and hard to undo). deploy/Caddyfile sends the same value.
const HSTSValue = "max-age=31536000; includeSubDomains"

// hsts returns the global middleware that sends HSTSValue on every response when appURL is
// https, or nil when it is not (a browser ignores the header over http anyway, and a local http
// run must not be told otherwise). The reverse proxy sets the same header (deploy/Caddyfile);
// the app sends it too so a proxy without it still gets HSTS.
func hsts(appURL string) func(e *core.RequestEvent) error {
	if !strings.HasPrefix(appURL, "https://") {
		return nil
	}
	return func(e *core.RequestEvent) error {
		e.Response.Header().Set("Strict-Transport-Security", HSTSValue)
		return e.Next()
	}
}
