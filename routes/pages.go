package routes

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/passwords"
	pbpublic "phaseflow/pb_public"
	"phaseflow/sessions"
	"phaseflow/users"
)

// SessionCookie is the cookie the front end mirrors the auth token into. It holds only the raw
// token; the server reads it for nothing but the page guard.
const SessionCookie = "pb_auth"

// ContentSecurityPolicy is sent with every page. The front end has no inline script or style (so
// no importmap either: modules import the SDK by path) and talks only to its own origin.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// privatePages and publicPages are the front end's page paths; each is served the same shell
// (index.html) and the client-side router picks the view. Public pages are served without a
// session: signing in must be possible without one, and so must following a mailed link (its
// token is the proof).
var (
	privatePages = map[string]bool{"/": true, "/settings": true}
	publicPages  = map[string]bool{
		"/login":                  true,
		"/signup":                 true,
		config.OAuth2CallbackPath: true,
		"/forgot-password":        true,
		"/reset-password":         true,
		"/verify-email":           true,
		"/confirm-email-change":   true,
	}
)

// publicAssetPrefixes are the static files every page (the login page included) needs. They hold
// no private data, so they are served to anyone.
var publicAssetPrefixes = []string{"/js/", "/css/", "/vendor/"}

// publicAssetFiles are single static files at the root.
var publicAssetFiles = map[string]bool{"/favicon.svg": true}

// contentTypes are set explicitly: browsers refuse module scripts served with a non-JavaScript
// type, and the platform's MIME table varies between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// AppConfig is what the front end needs to know about the operator's choices beyond what
// PocketBase's auth-methods tells it.
type AppConfig struct {
	OpenRegistration bool `json:"openRegistration"`
	// PasswordMinLength and PasswordRule are the password rule, shown before a password is set.
	PasswordMinLength int    `json:"passwordMinLength"`
	PasswordRule      string `json:"passwordRule"`
	// OIDC is the identity provider's state (see OIDCStatus).
	OIDC OIDCStatus `json:"oidc"`
}

// bindPages serves the web front end from the embedded pb_public files:
//
//   - GET /api/app-config: public; whether the sign-up page is offered and whether the identity
//     provider is configured and available.
//   - /js/, /css/, /vendor/, /favicon.svg: public static files.
//   - /login, /signup, /auth/callback: the page shell, public.
//   - every other path outside /api/ and /_/: the page guard, then the shell (200 for a known
//     page, 404 for an unknown one, whose view says "not found"). A signed-out visit to any page,
//     known or not, lands on /login, so the server never tells a stranger which pages exist.
//   - before the guard, a page opened on a host name other than APP_URL's, or with a trailing
//     slash, is redirected to its address (page_address.go); /login and /signup send their origin
//     to the identity provider (flowStartPages), every other page no referrer.
//
// Only GET and HEAD are served; other methods get a JSON 405 and never the shell.
func bindPages(se *core.ServeEvent, cfg config.Config, lt sessions.Lifetimes) {
	site, err := newSite(pbpublic.Files)
	if err != nil {
		// The files are embedded at build time, so this cannot happen in a built binary.
		panic(fmt.Errorf("failed to load the embedded front end: %w", err))
	}

	se.Router.GET("/api/app-config", func(e *core.RequestEvent) error {
		rule := passwords.Rule{MinLength: cfg.PasswordMinLength}
		return e.JSON(http.StatusOK, AppConfig{
			OpenRegistration: cfg.OpenRegistration, PasswordMinLength: rule.MinLength, PasswordRule: rule.Describe(),
			OIDC: oidcStatus(e.App, cfg),
		})
	})

	// A method-less catch-all: "GET /{path...}" would conflict with the method-less
	// "/api/{path...}" fallback (each is more specific in one dimension), which panics in
	// BuildMux. Every PocketBase route (/api/..., GET /_/...) is more specific than this one.
	site.lifetimes = lt
	site.address = newPageAddress(cfg.AppURL)
	se.Router.Any("/{path...}", site.serve)
}

// site is the embedded front end with its shell and per-file ETags loaded once.
type site struct {
	lifetimes sessions.Lifetimes
	address   pageAddress
	files     fs.FS
	shell     []byte
	etags     map[string]string
}

func newSite(files fs.FS) (*site, error) {
	shell, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return nil, err
	}
	s := &site{files: files, shell: shell, etags: map[string]string{}}
	err = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		s.etags[name] = `"` + hex.EncodeToString(sum[:16]) + `"`
		return nil
	})
	return s, err
}

func (s *site) serve(e *core.RequestEvent) error {
	if e.Request.Method != http.MethodGet && e.Request.Method != http.MethodHead {
		e.Response.Header().Set("Allow", "GET, HEAD")
		return e.Error(http.StatusMethodNotAllowed, "Method not allowed.", nil)
	}
	p := e.Request.URL.Path
	if isPublicAsset(p) {
		return s.serveAsset(e, strings.TrimPrefix(p, "/"))
	}

	setPageHeaders(e.Response.Header())
	if target, status := s.address.redirect(e.Request); target != "" {
		return e.Redirect(status, target)
	}
	if policy, ok := flowStartPages[p]; ok {
		e.Response.Header().Set("Referrer-Policy", policy)
	}
	if !publicPages[p] {
		if _, err := pageSession(e, s.lifetimes); err != nil {
			return e.Redirect(http.StatusFound, loginURL(e.Request.URL))
		}
	}
	status := http.StatusOK
	if !privatePages[p] && !publicPages[p] {
		status = http.StatusNotFound
	}
	h := e.Response.Header()
	h.Set("Content-Type", contentTypes[".html"])
	h.Set("Content-Length", strconv.Itoa(len(s.shell)))
	e.Response.WriteHeader(status)
	if e.Request.Method == http.MethodHead {
		return nil
	}
	_, err := e.Response.Write(s.shell)
	return err
}

// serveAsset serves one embedded file with an ETag, so browsers revalidate instead of
// re-downloading (the embedded files have no modification time).
func (s *site) serveAsset(e *core.RequestEvent, name string) error {
	etag, ok := s.etags[name]
	if !ok || !fs.ValidPath(name) {
		return e.NotFoundError("The requested file wasn't found.", nil)
	}
	f, err := s.files.Open(name)
	if err != nil {
		return e.NotFoundError("The requested file wasn't found.", err)
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return e.InternalServerError("", errors.New("embedded file is not seekable"))
	}
	h := e.Response.Header()
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		h.Set("Content-Type", ct)
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag)
	http.ServeContent(e.Response, e.Request, name, time.Time{}, rs)
	return nil
}

// setPageHeaders adds the headers of every page response (shell or redirect) to PocketBase's
// own security headers. Pages are never cached: after sign-out, Back must ask the server again.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// pageSession returns the user whose token is in the pb_auth cookie. The cookie is verified like
// an Authorization header (signature, expiry, the record's current token key, a live session)
// and must belong to the users collection: a superuser token is not a page session. The result
// is used only to decide whether to serve the shell; it never authorizes an API call.
func pageSession(e *core.RequestEvent, lt sessions.Lifetimes) (*core.Record, error) {
	c, err := e.Request.Cookie(SessionCookie)
	if err != nil {
		return nil, err
	}
	token, err := url.PathUnescape(c.Value)
	if err != nil || token == "" {
		return nil, errors.New("malformed session cookie")
	}
	record, err := e.App.FindAuthRecordByToken(token, core.TokenTypeAuth)
	if err != nil {
		return nil, err
	}
	if record.Collection().Name != users.Collection {
		return nil, errors.New("the session cookie is not a users token")
	}
	if _, err := sessions.CheckToken(e.App, lt, record, token, time.Now()); err != nil {
		return nil, err
	}
	return record, nil
}

// loginURL is the sign-in page with the requested page (path and query) in next. "/" is the
// default after sign-in, so it is left out. Slashes stay readable; everything else is escaped.
func loginURL(u *url.URL) string {
	next := u.EscapedPath()
	if u.RawQuery != "" {
		next += "?" + u.RawQuery
	}
	if next == "/" {
		return "/login"
	}
	return "/login?next=" + strings.ReplaceAll(url.QueryEscape(next), "%2F", "/")
}

func isPublicAsset(p string) bool {
	if publicAssetFiles[p] {
		return true
	}
	for _, prefix := range publicAssetPrefixes {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
