package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium (`apt-get install chromium`). The tests never download a
// browser.
const chromiumPath = "/usr/bin/chromium"

// waitTimeout bounds every wait for the page to reach a state.
const waitTimeout = 20 * time.Second

// Browser is one headless Chromium process. Each tab opens in its own browser context (separate
// cookies and storage), like a separate browser profile.
type Browser struct {
	ctx context.Context
}

// startBrowser launches Chromium with a fresh profile directory and exactly the flags below.
func startBrowser(t *testing.T) *Browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser tests need Debian's Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("failed to start Chromium at %s: %v", chromiumPath, err)
	}
	return &Browser{ctx: ctx}
}

// Tab is a page in its own browser context. It records uncaught exceptions and Content Security
// Policy violations, which fail the test when it ends.
type Tab struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// newTab opens a page in a fresh browser context, closed when the test ends.
func (b *Browser) newTab(t *testing.T) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	tab := &Tab{t: t, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			tab.problem(fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
		case *log.EventEntryAdded:
			text := ev.Entry.Text
			if strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Refused to") {
				tab.problem("CSP violation: " + text)
			}
		}
	})
	if err != nil {
		cancel()
		t.Fatalf("failed to open a tab: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		tab.mu.Lock()
		defer tab.mu.Unlock()
		for _, p := range tab.problems {
			t.Errorf("browser reported %s", p)
		}
	})
	return tab
}

func (tab *Tab) problem(p string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.problems = append(tab.problems, p)
}

// run runs chromedp actions with a timeout and fails the test on error.
func (tab *Tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tab.t.Fatalf("%s: %v\n%s", what, err, tab.describe())
	}
}

// navigate loads url as if typed into the address bar.
func (tab *Tab) navigate(url string) {
	tab.t.Helper()
	tab.run("navigate to "+url, chromedp.Navigate(url))
}

// eval evaluates a JavaScript expression; errors (e.g. during a navigation) are returned.
func eval[T any](tab *Tab, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tab.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// mustEval evaluates expr and fails the test on error.
func mustEval[T any](tab *Tab, expr string) T {
	tab.t.Helper()
	v, err := eval[T](tab, expr)
	if err != nil {
		tab.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript boolean expression until it holds. Evaluation errors (the page is
// between documents) count as "not yet".
func (tab *Tab) waitFor(what, expr string) {
	tab.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if ok, err := eval[bool](tab, "Boolean("+expr+")"); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tab.t.Fatalf("timed out waiting for %s (%s)\n%s", what, expr, tab.describe())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLocation waits until the page's path and query equal want.
func (tab *Tab) waitLocation(want string) {
	tab.t.Helper()
	tab.waitFor("location "+want, "location.pathname + location.search === "+jsString(want)+
		" && document.readyState === 'complete'")
}

// describe is the page's address and visible text, for failure messages.
func (tab *Tab) describe() string {
	s, err := eval[string](tab, `location.href + "\n" + (document.body ? document.body.innerText : "")`)
	if err != nil {
		return "(page not readable: " + err.Error() + ")"
	}
	return "page: " + s
}

// text returns the text of the first element matching the CSS selector ("" when absent).
func (tab *Tab) text(selector string) string {
	tab.t.Helper()
	return mustEval[string](tab, `(document.querySelector(`+jsString(selector)+`) || {}).textContent || ""`)
}

// bodyText is the visible text of the page.
func (tab *Tab) bodyText() string {
	tab.t.Helper()
	return mustEval[string](tab, `document.body ? document.body.innerText : ""`)
}

// typeInto focuses a visible input and types text with key events.
func (tab *Tab) typeInto(selector, text string) {
	tab.t.Helper()
	tab.run("type into "+selector, chromedp.WaitVisible(chromedp.CSS(selector)),
		chromedp.SendKeys(chromedp.CSS(selector), text))
}

// setValue sets an input's value (for date and time inputs, whose typing is locale-specific).
func (tab *Tab) setValue(selector, value string) {
	tab.t.Helper()
	tab.run("wait for "+selector, chromedp.WaitVisible(chromedp.CSS(selector)))
	mustEval[bool](tab, `(() => { const el = document.querySelector(`+jsString(selector)+`); el.value = `+jsString(value)+
		`; el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)
}

// click waits for a visible element and clicks it.
func (tab *Tab) click(selector string) {
	tab.t.Helper()
	tab.run("click "+selector, chromedp.WaitVisible(chromedp.CSS(selector)), chromedp.Click(chromedp.CSS(selector)))
}

// storedToken is the token the SDK keeps in localStorage ("" when signed out).
func (tab *Tab) storedToken() string {
	tab.t.Helper()
	return mustEval[string](tab, `(() => { try { return JSON.parse(localStorage.getItem("pocketbase_auth") || "{}").token || ""; } catch { return ""; } })()`)
}

// cookies returns the browser's cookies for the server's origin.
func (tab *Tab) cookies(srv *Server) []*network.Cookie {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, waitTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL + "/"}})
	if err != nil {
		tab.t.Fatalf("read cookies: %v", err)
	}
	return res.Cookies
}

// sessionCookie returns the pb_auth cookie, or nil.
func (tab *Tab) sessionCookie(srv *Server) *network.Cookie {
	tab.t.Helper()
	for _, c := range tab.cookies(srv) {
		if c.Name == "pb_auth" {
			return c
		}
	}
	return nil
}

// setSessionCookie stores a pb_auth cookie as the front end would.
func (tab *Tab) setSessionCookie(srv *Server, value string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, waitTimeout)
	defer cancel()
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: "pb_auth", Value: value, URL: srv.URL + "/", Path: "/", SameSite: network.CookieSameSiteLax,
	})
	if err != nil {
		tab.t.Fatalf("set the pb_auth cookie: %v", err)
	}
}

// screenshot saves a full-page PNG of the current page at the given viewport into
// test-artifacts/screenshots/ at the repository root, and fails when the page is wider than the
// viewport (a horizontal scroll bar on a phone).
func (tab *Tab) screenshot(name string, width, height int64, mobile bool) string {
	tab.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if mobile {
		opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	tab.run("resize to "+name, chromedp.EmulateViewport(width, height, opts...))
	// Let layout settle after the resize.
	tab.waitFor("layout at the new width", fmt.Sprintf("window.innerWidth === %d", width))
	if sw := mustEval[int](tab, `document.documentElement.scrollWidth`); sw > int(width) {
		tab.t.Errorf("%s: the page is %dpx wide in a %dpx viewport", name, sw, width)
	}
	ctx, cancel := context.WithTimeout(tab.ctx, waitTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tab.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "test-artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tab.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tab.t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	return abs
}

func jsString(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}

// uiTokenExp reads a JWT's exp claim without verifying it.
func uiTokenExp(t *testing.T, token string) int64 {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("expected a JWT, got %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Exp
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers against the running binary

// uiAPI sends a JSON request with an optional Authorization token and decodes a JSON answer.
func uiAPI(t *testing.T, srv *Server, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: expected JSON, got %q", method, path, raw)
		}
	}
	return res.StatusCode, out
}

// uiMustAPI is uiAPI that requires the given status.
func uiMustAPI(t *testing.T, srv *Server, method, path, token string, body any, status int) map[string]any {
	t.Helper()
	got, out := uiAPI(t, srv, method, path, token, body)
	if got != status {
		t.Fatalf("%s %s: expected %d, got %d: %v", method, path, status, got, out)
	}
	return out
}

const (
	uiAdminEmail    = "root@example.com"
	uiAdminPassword = "root-password-123"
	uiUserPassword  = "correct-horse-battery"
)

var (
	superuserTokensMu sync.Mutex
	superuserTokens   = map[*Server]string{}
)

// uiSuperuserToken signs in the superuser the server was started with, once per server:
// PocketBase limits superuser sign-ins to a couple every few seconds.
func uiSuperuserToken(t *testing.T, srv *Server) string {
	t.Helper()
	superuserTokensMu.Lock()
	defer superuserTokensMu.Unlock()
	if tok, ok := superuserTokens[srv]; ok {
		return tok
	}
	out := uiMustAPI(t, srv, http.MethodPost, "/api/collections/_superusers/auth-with-password", "",
		map[string]any{"identity": uiAdminEmail, "password": uiAdminPassword}, http.StatusOK)
	tok := out["token"].(string)
	superuserTokens[srv] = tok
	return tok
}

// uiCreateUser creates a verified user with uiUserPassword over the superuser API and returns its id.
func uiCreateUser(t *testing.T, srv *Server, email string, mfa bool) string {
	t.Helper()
	out := uiMustAPI(t, srv, http.MethodPost, "/api/collections/users/records", uiSuperuserToken(t, srv), map[string]any{
		"email": email, "password": uiUserPassword, "passwordConfirm": uiUserPassword, "verified": true, "mfa": mfa,
	}, http.StatusOK)
	return out["id"].(string)
}

// uiUserToken signs a (non-MFA) user in over HTTP.
func uiUserToken(t *testing.T, srv *Server, email string) string {
	t.Helper()
	out := uiMustAPI(t, srv, http.MethodPost, "/api/collections/users/auth-with-password", "",
		map[string]any{"identity": email, "password": uiUserPassword}, http.StatusOK)
	return out["token"].(string)
}

// uiFindUser returns the id of the user with email ("" when there is none).
func uiFindUser(t *testing.T, srv *Server, email string) string {
	t.Helper()
	q := url.Values{"filter": {fmt.Sprintf("email = %q", email)}}
	out := uiMustAPI(t, srv, http.MethodGet, "/api/collections/users/records?"+q.Encode(), uiSuperuserToken(t, srv), nil, http.StatusOK)
	items, _ := out["items"].([]any)
	if len(items) == 0 {
		return ""
	}
	return items[0].(map[string]any)["id"].(string)
}

var uiMailCodePattern = regexp.MustCompile(`\b(\d{8})\b`)

// uiMailedCode waits for a mail to email printed by the server after offset and returns the
// 8-digit code in it.
func uiMailedCode(t *testing.T, srv *Server, email string, offset int) string {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		out := srv.Output.String()
		if offset <= len(out) {
			out = out[offset:]
			to := regexp.MustCompile(`(?m)^To: .*`+regexp.QuoteMeta(email)+`.*$`).FindAllStringIndex(out, -1)
			if len(to) > 0 {
				if m := uiMailCodePattern.FindStringSubmatch(out[to[len(to)-1][1]:]); m != nil {
					return m[1]
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no code mailed to %s; server output after the request:\n%s", email, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
