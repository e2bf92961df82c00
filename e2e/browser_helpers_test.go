package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

// Browser is one headless Chromium process (see sharedBrowser). Each tab opens in its own
// browser context (separate cookies and storage), like a separate browser profile.
type Browser struct {
	ctx     context.Context
	cancel  func()
	profile string
}

// launchBrowser starts Chromium with a fresh profile directory and exactly the flags below, plus
// extra (only the proxy test adds one).
func launchBrowser(extra ...chromedp.ExecAllocatorOption) (*Browser, error) {
	if _, err := os.Stat(chromiumPath); err != nil {
		return nil, fmt.Errorf("the browser tests need Debian's Chromium at %s (apt-get install -y chromium): %w", chromiumPath, err)
	}
	profile, err := os.MkdirTemp("", "phaseflow-e2e-chromium-")
	if err != nil {
		return nil, err
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
		chromedp.UserDataDir(profile),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: ctx, profile: profile, cancel: func() { cancelBrowser(); cancelAlloc() }}
	if err := chromedp.Do(ctx); err != nil {
		b.close()
		return nil, fmt.Errorf("failed to start Chromium at %s: %w", chromiumPath, err)
	}
	return b, nil
}

// close stops Chromium and removes its profile.
func (b *Browser) close() {
	b.cancel()
	_ = os.RemoveAll(b.profile)
}

// Tab is a page in its own browser context. It records uncaught exceptions and Content Security
// Policy violations, which fail the test when it ends.
type Tab struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// newTab opens a page of the shared browser in a fresh browser context, closed when the test ends.
func newTab(t *testing.T) *Tab {
	t.Helper()
	return newTabIn(t, sharedBrowser(t))
}

// newTabIn opens a page of browser b in a fresh browser context, closed when the test ends.
func newTabIn(t *testing.T, b *Browser) *Tab {
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

// reload reloads the page.
func (tab *Tab) reload() {
	tab.t.Helper()
	tab.run("reload", chromedp.Reload())
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
	ok := poll(waitTimeout, func() bool {
		v, err := eval[bool](tab, "Boolean("+expr+")")
		return err == nil && v
	})
	if !ok {
		tab.t.Fatalf("timed out waiting for %s (%s)\n%s", what, expr, tab.describe())
	}
}

// waitLocation waits until the page's path and query equal want.
func (tab *Tab) waitLocation(want string) {
	tab.t.Helper()
	tab.waitFor("location "+want, "location.pathname + location.search === "+jsString(want)+
		" && document.readyState === 'complete'")
}

// waitSignedInAs waits for the settings page to show email as the signed-in account.
func (tab *Tab) waitSignedInAs(email string) {
	tab.t.Helper()
	tab.waitFor("the profile of "+email, `document.querySelector("#signed-in-as")?.textContent.includes(`+jsString(email)+`)`)
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

// press focuses a visible element and presses key on it, as a keyboard user would ("\r" for
// Enter, " " for Space).
func (tab *Tab) press(selector, key string) {
	tab.t.Helper()
	tab.run("press a key on "+selector, chromedp.WaitVisible(chromedp.CSS(selector)), chromedp.SendKeys(chromedp.CSS(selector), key))
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
	return tab.cookiesAt(srv.URL)
}

// cookiesAt returns the browser's cookies for origin (e.g. a proxy's https address).
func (tab *Tab) cookiesAt(origin string) []*network.Cookie {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, waitTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{origin + "/"}})
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

// submitPassword fills the password form of the open /login page for email and submits it.
func (tab *Tab) submitPassword(email string) {
	tab.t.Helper()
	tab.typeInto("#password-form input[name=identity]", email)
	tab.typeInto("#password-form input[name=password]", userPassword)
	tab.click("#password-form button[type=submit]")
}

// signIn signs email in with the password form on /login and waits for wantPath.
func (tab *Tab) signIn(srv *Server, email, wantPath string) {
	tab.t.Helper()
	tab.navigate(srv.URL + "/login")
	tab.submitPassword(email)
	tab.waitLocation(wantPath)
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

// tokenClaims decodes a JWT's payload without verifying it.
func tokenClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("expected a JWT, got %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// tokenExp reads a JWT's exp claim without verifying it.
func tokenExp(t *testing.T, token string) int64 {
	t.Helper()
	exp, _ := tokenClaims(t, token)["exp"].(float64)
	return int64(exp)
}

// tokenClaim reads one string claim of a JWT without verifying it.
func tokenClaim(t *testing.T, token, claim string) string {
	t.Helper()
	v, _ := tokenClaims(t, token)[claim].(string)
	return v
}

var mailCodePattern = regexp.MustCompile(`\b(\d{8})\b`)

// mailedCode waits for a mail to email printed by the server after offset and returns the
// 8-digit code in it.
func mailedCode(t *testing.T, srv *Server, email string, offset int) string {
	t.Helper()
	code, err := waitMailedCode(srv, email, offset)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// waitMailedCode is mailedCode for callers without a *testing.T of their own (a shared fixture).
func waitMailedCode(srv *Server, email string, offset int) (string, error) {
	to := regexp.MustCompile(`(?m)^To: .*` + regexp.QuoteMeta(email) + `.*$`)
	var code, out string
	ok := poll(waitTimeout, func() bool {
		out = srv.Output.String()
		if offset > len(out) {
			return false
		}
		out = out[offset:]
		if at := to.FindAllStringIndex(out, -1); len(at) > 0 {
			if m := mailCodePattern.FindStringSubmatch(out[at[len(at)-1][1]:]); m != nil {
				code = m[1]
			}
		}
		return code != ""
	})
	if !ok {
		return "", fmt.Errorf("no code mailed to %s; server output after the request:\n%s", email, out)
	}
	return code, nil
}
