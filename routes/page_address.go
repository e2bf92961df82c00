package routes

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// flowStartPages start a sign-in with an identity provider. They send their origin (never the
// path or query) when the browser leaves for the provider: Pocket-ID's consent page sends
// "Cancel" back to document.referrer, and with no referrer it strands the person on Pocket-ID.
// Neither page carries a secret in its address; every other page keeps no-referrer (feed URLs,
// the mailed tokens and the OAuth2 code must never leak).
var flowStartPages = map[string]string{
	"/login":  "strict-origin",
	"/signup": "strict-origin",
}

// pageAddress is where pages are served: APP_URL's host name, and paths without a trailing
// slash. Opened on another host name (localhost for 127.0.0.1, an IP address for a name), a
// page would run on another origin: its own storage, and a redirect URL the identity provider
// refuses, since it matches it exactly.
type pageAddress struct {
	base  string // APP_URL, without a trailing slash
	host  string // APP_URL's host name, lower case
	https bool
}

func newPageAddress(appURL string) pageAddress {
	u, err := url.Parse(appURL)
	if err != nil {
		return pageAddress{}
	}
	return pageAddress{base: strings.TrimSuffix(appURL, "/"), host: strings.ToLower(u.Hostname()), https: u.Scheme == "https"}
}

// redirect returns where a page request (GET or HEAD, not /api/) goes instead, and with which
// status, or "" to serve it here: APP_URL with the same path and query (302, APP_URL may change)
// when it came to another host name, else the path without its trailing slashes (308).
func (a pageAddress) redirect(r *http.Request) (string, int) {
	path := r.URL.EscapedPath()
	if trimmed := strings.TrimRight(path, "/"); trimmed != "" {
		path = trimmed
	} else {
		path = "/"
	}
	query := ""
	if r.URL.RawQuery != "" {
		query = "?" + r.URL.RawQuery
	}
	// A path that a browser would read as another site ("//host", "/\host") is never a Location.
	if strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		return "", 0
	}
	if a.host != "" && a.elsewhere(r) {
		return a.base + path + query, http.StatusFound
	}
	if path != r.URL.EscapedPath() {
		return path + query, http.StatusPermanentRedirect
	}
	return "", 0
}

// elsewhere reports whether r was sent to a host name other than APP_URL's. The port is not
// compared: behind a proxy the app listens on its own port, and the host name is what people
// get wrong. A proxy that names the browser's host in X-Forwarded-Host is believed (it only
// spares a redirect). A request over plain http to the app's own listening address while
// APP_URL is https comes from a TLS proxy that does not pass the public Host on (nginx's
// default): redirecting it would send the browser round the proxy for ever, so it is served.
func (a pageAddress) elsewhere(r *http.Request) bool {
	if hostName(r.Host) == a.host {
		return false
	}
	if fwd, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ","); fwd != "" && hostName(strings.TrimSpace(fwd)) == a.host {
		return false
	}
	if a.https && r.TLS == nil {
		if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && strings.EqualFold(r.Host, local.String()) {
			return false
		}
	}
	return true
}

// hostName is the host of a Host header without its port, lower case.
func hostName(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(strings.Trim(h, "[]"))
	}
	return strings.ToLower(strings.Trim(hostport, "[]"))
}
