package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
)

// provider is a real OIDC provider (mockoidc) on 127.0.0.1 whose /authorize requests the tests can
// observe and, for the error cases, answer themselves.
type provider struct {
	*mockoidc.MockOIDC

	mu        sync.Mutex
	authorize []url.Values
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

func startProvider(t *testing.T) *provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{MockOIDC: m}
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				p.mu.Lock()
				p.authorize = append(p.authorize, r.URL.Query())
				intercept := p.intercept
				p.mu.Unlock()
				if intercept != nil && intercept(w, r) {
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

// lastAuthorize returns the query of the latest /authorize request.
func (p *provider) lastAuthorize(t *testing.T) url.Values {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.authorize) == 0 {
		t.Fatal("the browser never reached the provider's /authorize")
	}
	return p.authorize[len(p.authorize)-1]
}

// setIntercept installs (or, with nil, removes) a handler that may answer /authorize itself.
func (p *provider) setIntercept(f func(w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.intercept = f
}

func (p *provider) env() []string {
	return []string{
		"POCKETBASE_OIDC_ISSUER_URL=" + p.Issuer(),
		"POCKETBASE_OIDC_CLIENT_ID=" + p.ClientID,
		"POCKETBASE_OIDC_CLIENT_SECRET=" + p.ClientSecret,
	}
}

// submitPassword fills the password form of the open /login page for email and submits it.
func (tab *Tab) submitPassword(email string) {
	tab.t.Helper()
	tab.typeInto("#password-form input[name=identity]", email)
	tab.typeInto("#password-form input[name=password]", uiUserPassword)
	tab.click("#password-form button[type=submit]")
}

// uiSignIn signs email in with the password form on /login and waits for wantPath.
func uiSignIn(tab *Tab, srv *Server, email, wantPath string) {
	tab.t.Helper()
	tab.navigate(srv.URL + "/login")
	tab.submitPassword(email)
	tab.waitLocation(wantPath)
}

// TestBrowser drives the front end in headless Chromium against the real binary and a real OIDC
// provider. One browser serves every scenario; each scenario gets fresh browser contexts.
func TestBrowser(t *testing.T) {
	t.Parallel()
	idp := startProvider(t)
	admin := []string{"POCKETBASE_ADMIN_EMAIL=" + uiAdminEmail, "POCKETBASE_ADMIN_PASSWORD=" + uiAdminPassword}
	// The scenarios sign in many times from 127.0.0.1; rate limiting has its own scenario below.
	closed := startServer(t, append(append(idp.env(), admin...), "AUTH_RATE_LIMIT=1000")...)
	open := startServer(t, append(append(idp.env(), admin...), "AUTH_RATE_LIMIT=1000", "OPEN_REGISTRATION=true")...)
	browser := startBrowser(t)

	t.Run("signed out, /settings redirects to /login; after a password sign-in it is back on /settings", func(t *testing.T) {
		t.Parallel()
		email := "password@example.com"
		uiCreateUser(t, closed, email, false)
		tab := browser.newTab(t)

		tab.navigate(closed.URL + "/settings")
		tab.waitLocation("/login?next=/settings")
		if strings.Contains(tab.bodyText(), "Signed in as") {
			t.Fatal("the login page shows private content")
		}
		tab.submitPassword(email)
		tab.waitLocation("/settings")
		tab.waitFor("the profile", `document.querySelector("#signed-in-as")?.textContent.includes(`+jsString(email)+`)`)

		t.Run("the pb_auth cookie holds only the token, with the right attributes", func(t *testing.T) {
			token := tab.storedToken()
			c := tab.sessionCookie(closed)
			if c == nil {
				t.Fatal("no pb_auth cookie after sign-in")
			}
			if c.Value != token || strings.Count(c.Value, ".") != 2 || strings.ContainsAny(c.Value, "{%") {
				t.Fatalf("expected the cookie to be exactly the stored token, got %q (token %q)", c.Value, token)
			}
			if c.Path != "/" || c.SameSite != network.CookieSameSiteLax || c.HTTPOnly || c.Secure || c.Session {
				t.Fatalf("expected Path=/ SameSite=Lax, not HttpOnly, not Secure (http), persistent; got path %q sameSite %q httpOnly %v secure %v session %v",
					c.Path, c.SameSite, c.HTTPOnly, c.Secure, c.Session)
			}
			if exp := uiTokenExp(t, token); int64(c.Expires) != exp {
				t.Fatalf("expected the cookie to expire with the token at %d, got %v", exp, c.Expires)
			}
		})

		t.Run("the session persists across a reload and slides forward", func(t *testing.T) {
			before := tab.storedToken()
			time.Sleep(1100 * time.Millisecond) // a refreshed token's exp must differ by a second
			tab.run("reload", chromedp.Reload())
			tab.waitLocation("/settings")
			tab.waitFor("the profile after reload", `document.querySelector("#signed-in-as")?.textContent.includes(`+jsString(email)+`)`)
			tab.waitFor("a refreshed token", `JSON.parse(localStorage.getItem("pocketbase_auth") || "{}").token !== `+jsString(before))
			after := tab.storedToken()
			if uiTokenExp(t, after) <= uiTokenExp(t, before) {
				t.Fatal("the reload did not refresh the session")
			}
			if c := tab.sessionCookie(closed); c == nil || c.Value != after {
				t.Fatal("the cookie does not follow the refreshed token")
			}
		})
	})

	t.Run("a next that leaves the site is ignored after sign-in", func(t *testing.T) {
		t.Parallel()
		email := "next@example.com"
		uiCreateUser(t, closed, email, false)
		leaving := []string{"//127.0.0.1:1/evil", `/\127.0.0.1:1/evil`, "http://127.0.0.1:1/evil",
			"/.//127.0.0.1:1/evil", "/a/..//127.0.0.1:1/evil", "/%2e//127.0.0.1:1/evil"}
		var tab *Tab
		for _, next := range leaving {
			tab = browser.newTab(t)
			tab.navigate(closed.URL + "/login?next=" + url.QueryEscape(next))
			tab.submitPassword(email)
			tab.waitLocation("/")
			if origin := mustEval[string](tab, "location.origin"); origin != closed.URL {
				t.Fatalf("next %q: left the site for %s", next, origin)
			}
		}
		// Signed in, /login continues to next at once: the same paths must not leave either.
		for _, next := range leaving {
			mustEval[any](tab, `sessionStorage.removeItem("phaseflow.autoContinue")`) // its 10 s loop guard
			tab.navigate(closed.URL + "/login?next=" + url.QueryEscape(next))
			tab.waitLocation("/")
			if origin := mustEval[string](tab, "location.origin"); origin != closed.URL {
				t.Fatalf("signed in, next %q: left the site for %s", next, origin)
			}
		}
	})

	t.Run("forged and expired cookies are redirected to /login", func(t *testing.T) {
		t.Parallel()
		id := uiCreateUser(t, closed, "expired@example.com", false)
		// A token the server signed, valid for one second.
		out := uiMustAPI(t, closed, http.MethodPost, "/api/collections/users/impersonate/"+id, uiSuperuserToken(t, closed),
			map[string]any{"duration": 1}, http.StatusOK)
		expired := out["token"].(string)
		parts := strings.Split(expired, ".")
		forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
		time.Sleep(2 * time.Second)

		for _, c := range []struct{ name, value string }{{"forged", forged}, {"expired", expired}} {
			tab := browser.newTab(t)
			tab.setSessionCookie(closed, c.value)
			tab.navigate(closed.URL + "/settings")
			tab.waitLocation("/login?next=/settings")
			tab.waitFor("the password form", `document.querySelector("#password-form")`)
			if strings.Contains(tab.bodyText(), "Signed in as") {
				t.Fatalf("%s cookie: private content shown", c.name)
			}
		}
	})

	t.Run("email-code sign-in", func(t *testing.T) {
		t.Parallel()
		email := "code@example.com"
		uiCreateUser(t, closed, email, false)
		tab := browser.newTab(t)
		tab.navigate(closed.URL + "/login")
		tab.click("#toggle-method")
		tab.typeInto("#otp-form input[name=email]", email)
		offset := len(closed.Output.String())
		tab.click("#otp-request")
		code := uiMailedCode(t, closed, email, offset)
		tab.typeInto("#otp-form input[name=code]", code)
		tab.click("#otp-submit")
		tab.waitLocation("/")
		tab.waitFor("today's view", `document.querySelector("#today-title")`)
		if tab.storedToken() == "" || tab.sessionCookie(closed) == nil {
			t.Fatal("signed in without a stored token or cookie")
		}
	})

	t.Run("MFA: the password is followed by an emailed code", func(t *testing.T) {
		t.Parallel()
		email := "mfa@example.com"
		uiCreateUser(t, closed, email, true)
		tab := browser.newTab(t)
		tab.navigate(closed.URL + "/login?next=/settings")
		offset := len(closed.Output.String())
		tab.submitPassword(email)
		tab.waitFor("the second step", `document.querySelector("#mfa-form input[name=code]")`)
		if tab.storedToken() != "" || tab.sessionCookie(closed) != nil {
			t.Fatal("signed in after the first factor only")
		}
		code := uiMailedCode(t, closed, email, offset)
		tab.typeInto("#mfa-form input[name=code]", code)
		tab.click("#mfa-form button[type=submit]")
		tab.waitLocation("/settings")
		tab.waitFor("the profile", `document.querySelector("#signed-in-as")?.textContent.includes(`+jsString(email)+`)`)
	})

	t.Run("editing settings saves, and a bad value shows the server's message", func(t *testing.T) {
		t.Parallel()
		email := "settings@example.com"
		uiCreateUser(t, closed, email, false)
		tab := browser.newTab(t)
		uiSignIn(tab, closed, email, "/")
		tab.navigate(closed.URL + "/settings")
		tab.waitFor("the profile form", `document.querySelector("#profile-form input[name=cycleLength]")`)

		lastPeriod := time.Now().UTC().AddDate(0, 0, -5).Format(time.DateOnly)
		tab.setValue("#profile-form input[name=cycleLength]", "31")
		tab.setValue("#profile-form input[name=lastPeriodDate]", lastPeriod)
		tab.setValue("#profile-form input[name=notificationTime]", "07:45")
		tab.setValue("#profile-form input[name=timezone]", "Europe/Berlin")
		tab.click("#profile-form button[type=submit]")
		tab.waitFor("the saved message", `document.querySelector("#profile [role=status]")?.textContent.includes("saved")`)

		tab.run("reload", chromedp.Reload())
		tab.waitLocation("/settings")
		tab.waitFor("the saved values", `document.querySelector("#profile-form input[name=cycleLength]")?.value === "31"`)
		values := mustEval[map[string]string](tab, `Object.fromEntries(["cycleLength","lastPeriodDate","notificationTime","timezone"].map(n => [n, document.querySelector("#profile-form input[name=" + n + "]").value]))`)
		want := map[string]string{"cycleLength": "31", "lastPeriodDate": lastPeriod, "notificationTime": "07:45", "timezone": "Europe/Berlin"}
		for k, v := range want {
			if values[k] != v {
				t.Fatalf("after reload, expected %s %q, got %q", k, v, values[k])
			}
		}

		// The message the server gives for this value, asked directly.
		status, body := uiAPI(t, closed, http.MethodPatch, "/api/user", uiUserToken(t, closed, email), map[string]any{"cycleLength": 10})
		data, _ := body["data"].(map[string]any)
		field, _ := data["cycleLength"].(map[string]any)
		serverMessage, _ := field["message"].(string)
		if status != http.StatusBadRequest || serverMessage == "" {
			t.Fatalf("expected the server to reject cycleLength 10 with a field message, got %d %v", status, body)
		}
		tab.setValue("#profile-form input[name=cycleLength]", "10")
		tab.click("#profile-form button[type=submit]")
		tab.waitFor("the field error", `document.querySelector("#profile-form [data-error-for=cycleLength]")?.textContent !== ""`)
		if got := tab.text("#profile-form [data-error-for=cycleLength]"); got != serverMessage {
			t.Fatalf("expected the server's message %q next to the field, got %q", serverMessage, got)
		}
		invalid := mustEval[string](tab, `document.querySelector("#profile-form input[name=cycleLength]").getAttribute("aria-invalid") || ""`)
		if invalid != "true" || tab.text("#profile [role=alert]") == "" {
			t.Fatal("the error is not announced: expected aria-invalid and a message in the alert")
		}

		t.Run("today's view shows the server's cycle", func(t *testing.T) {
			cycle := uiMustAPI(t, closed, http.MethodGet, "/api/user/cycle", uiUserToken(t, closed, email), nil, http.StatusOK)
			tab.click(`.site-header a[href="/"]`)
			tab.waitLocation("/")
			tab.waitFor("the cycle summary", `document.querySelector("#cycle-summary")`)
			got := mustEval[map[string]string](tab, `(() => { const s = document.querySelector("#cycle-summary"); return {day: s.dataset.cycleDay, phase: s.dataset.phase, next: document.querySelector("#next-period").dataset.date}; })()`)
			if got["day"] != fmt.Sprint(cycle["cycleDay"]) || got["phase"] != cycle["phase"] || got["next"] != cycle["nextPeriod"] {
				t.Fatalf("expected the page to show %v, got %v", cycle, got)
			}
		})
	})

	t.Run("calendar feed, second factor, activity and the not-found page", func(t *testing.T) {
		t.Parallel()
		email := "feed@example.com"
		uiCreateUser(t, closed, email, false)
		tab := browser.newTab(t)
		uiSignIn(tab, closed, email, "/")
		tab.navigate(closed.URL + "/settings")
		tab.waitFor("the feed state", `document.querySelector("#calendar-state")?.textContent === "You have no calendar link."`)

		tab.click("#calendar-create")
		tab.waitFor("the feed URL", `document.querySelector("#calendar-result input")?.value.endsWith(".ics")`)
		feedURL := mustEval[string](tab, `document.querySelector("#calendar-result input").value`)
		if !strings.HasPrefix(feedURL, closed.URL+"/api/calendar/") {
			t.Fatalf("unexpected feed URL %q", feedURL)
		}
		res, err := http.Get(feedURL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("expected the shown feed URL to work, got %d", res.StatusCode)
		}
		tab.run("reload", chromedp.Reload())
		tab.waitFor("the active feed", `document.querySelector("#calendar-state")?.textContent === "A private calendar link is active."`)
		if strings.Contains(tab.bodyText(), feedURL) || mustEval[bool](tab, `!document.querySelector("#calendar-result").hidden`) {
			t.Fatal("the feed URL is shown again after a reload")
		}
		tab.click("#calendar-revoke")
		tab.waitFor("the revoked feed", `document.querySelector("#calendar-state")?.textContent === "You have no calendar link."`)
		if res, err := http.Get(feedURL); err != nil || res.StatusCode == http.StatusOK {
			t.Fatalf("expected the revoked feed URL to fail, got %v %v", res, err)
		}

		token := uiUserToken(t, closed, email)
		tab.waitFor("the second-factor switch", `!document.querySelector("#mfa-switch").disabled`)
		for _, want := range []bool{true, false} {
			tab.click("#mfa-switch")
			tab.waitFor("the saved switch", `document.querySelector("#mfa [role=status]")?.textContent === `+
				jsString(map[bool]string{true: "The second step is on.", false: "The second step is off."}[want]))
			if got := uiMustAPI(t, closed, http.MethodGet, "/api/user/mfa", token, nil, http.StatusOK)["enabled"]; got != want {
				t.Fatalf("expected the server to store mfa %v, got %v", want, got)
			}
		}
		if !strings.Contains(tab.text("#activity-list"), "Password succeeded") {
			t.Fatalf("expected the password sign-in in the activity list, got %q", tab.text("#activity-list"))
		}

		tab.navigate(closed.URL + "/no-such-page")
		tab.waitFor("the not-found view", `document.querySelector("h1")?.textContent === "Page not found"`)
	})

	t.Run("sign-out clears localStorage and the cookie; Back shows /login, not private data", func(t *testing.T) {
		t.Parallel()
		email := "logout@example.com"
		uiCreateUser(t, closed, email, false)
		tab := browser.newTab(t)
		tab.navigate(closed.URL + "/settings")
		tab.waitLocation("/login?next=/settings")
		tab.submitPassword(email)
		tab.waitLocation("/settings")
		tab.waitFor("the profile", `document.querySelector("#signed-in-as")?.textContent.includes(`+jsString(email)+`)`)

		tab.click("#sign-out")
		tab.waitLocation("/login")
		if mustEval[bool](tab, `localStorage.getItem("pocketbase_auth") !== null`) {
			t.Fatal("localStorage still holds the session")
		}
		if c := tab.sessionCookie(closed); c != nil {
			t.Fatalf("the pb_auth cookie survived sign-out: %q", c.Value)
		}

		tab.run("go back", chromedp.NavigateBack())
		// Whether Chromium reloads the page or restores it from its back/forward cache, the
		// signed-out visit to /settings must end on the sign-in page.
		tab.waitLocation("/login?next=/settings")
		tab.waitFor("the login form after Back", `document.querySelector("#password-form")`)
		if body := tab.bodyText(); strings.Contains(body, email) || strings.Contains(body, "Your cycle") {
			t.Fatalf("Back shows private data: %q", body)
		}
	})

	t.Run("sign out of all devices ends the session in another browser on its next request", func(t *testing.T) {
		t.Parallel()
		email := "everywhere@example.com"
		uiCreateUser(t, closed, email, false)
		first, second := browser.newTab(t), browser.newTab(t)
		uiSignIn(first, closed, email, "/")
		uiSignIn(second, closed, email, "/")
		second.waitFor("today's view", `document.querySelector("#today-title")`)

		first.navigate(closed.URL + "/settings")
		first.click("#sign-out-all")
		first.click("#sign-out-all-confirm-button")
		first.waitLocation("/login")

		// The second browser still holds its (now revoked) token; its next request fails.
		second.click(`.site-header a[href="/settings"]`)
		second.waitLocation("/login?next=/settings")
		if second.storedToken() != "" || second.sessionCookie(closed) != nil {
			t.Fatal("the second browser kept the revoked session")
		}
	})

	t.Run("screenshots of /login, / and /settings at phone and desktop widths", func(t *testing.T) {
		t.Parallel()
		email := "screens@example.com"
		uiCreateUser(t, closed, email, false)
		uiMustAPI(t, closed, http.MethodPatch, "/api/user", uiUserToken(t, closed, email), map[string]any{
			"cycleLength": 28, "lastPeriodDate": time.Now().UTC().AddDate(0, 0, -9).Format(time.DateOnly),
			"notificationTime": "08:00", "timezone": "Europe/Berlin",
		}, http.StatusOK)
		sizes := []struct {
			name          string
			width, height int64
			mobile        bool
		}{{"phone", 390, 844, true}, {"desktop", 1280, 800, false}}
		tab := browser.newTab(t)
		var paths []string
		for _, s := range sizes {
			tab.navigate(closed.URL + "/login")
			tab.waitFor("the login page", `document.querySelector("#oidc-signin") && document.querySelector("#password-form")`)
			paths = append(paths, tab.screenshot("login-"+s.name, s.width, s.height, s.mobile))
		}
		uiSignIn(tab, closed, email, "/")
		for _, s := range sizes {
			tab.navigate(closed.URL + "/")
			tab.waitFor("today's view", `document.querySelector("#cycle-summary")`)
			paths = append(paths, tab.screenshot("home-"+s.name, s.width, s.height, s.mobile))
			tab.navigate(closed.URL + "/settings")
			tab.waitFor("the settings", `document.querySelector("#activity-list li") && document.querySelector("#calendar-state")?.textContent !== "Checking…" && !document.querySelector("#mfa-switch").disabled`)
			paths = append(paths, tab.screenshot("settings-"+s.name, s.width, s.height, s.mobile))
		}
		t.Logf("screenshots:\n%s", strings.Join(paths, "\n"))
	})

	t.Run("rate limiting shows a readable message", func(t *testing.T) {
		t.Parallel()
		limited := startServer(t, "AUTH_RATE_LIMIT=1")
		tab := browser.newTab(t)
		tab.navigate(limited.URL + "/login")
		for _, want := range []string{"Failed to authenticate.", "Too many attempts. Wait a minute, then try again."} {
			tab.setValue("#password-form input[name=identity]", "nobody@example.com")
			tab.setValue("#password-form input[name=password]", "wrong-password")
			tab.click("#password-form button[type=submit]")
			tab.waitFor("the message "+want, `document.querySelector("[role=alert]")?.textContent === `+jsString(want))
		}
	})

	t.Run("sign-up exists only with open registration", func(t *testing.T) {
		t.Parallel()
		tab := browser.newTab(t)
		tab.navigate(closed.URL + "/login")
		tab.waitFor("the login page", `document.querySelector("#password-form")`)
		if strings.Contains(tab.bodyText(), "Create an account") {
			t.Fatal("closed registration offers sign-up")
		}
		tab.navigate(closed.URL + "/signup")
		tab.waitFor("the closed notice", `document.body.innerText.includes("does not take new accounts")`)

		email := "signup@example.com"
		tab = browser.newTab(t)
		tab.navigate(open.URL + "/login")
		tab.click(`a[href="/signup"]`)
		tab.waitLocation("/signup")
		tab.typeInto("#signup-form input[name=email]", email)
		tab.typeInto("#signup-form input[name=password]", uiUserPassword)
		tab.typeInto("#signup-form input[name=passwordConfirm]", uiUserPassword+"x")
		tab.click("#signup-form button[type=submit]")
		tab.waitFor("the mismatch message", `document.querySelector("#signup-form [data-error-for=passwordConfirm]")?.textContent !== ""`)
		tab.setValue("#signup-form input[name=passwordConfirm]", uiUserPassword)
		tab.click("#signup-form button[type=submit]")
		tab.waitLocation("/")
		tab.waitFor("the prompt for a last period date", `document.querySelector("#cycle-unknown")`)
		if uiFindUser(t, open, email) == "" {
			t.Fatal("no account was created")
		}
	})

	// The OIDC scenarios share the provider's user queue and interceptor, so they run in order.
	t.Run("OIDC", func(t *testing.T) {
		t.Parallel()

		t.Run("the redirect carries state and PKCE, and the callback links the existing account", func(t *testing.T) {
			email := "oidc-link@example.com"
			id := uiCreateUser(t, closed, email, false)
			idp.QueueUser(&mockoidc.MockUser{Subject: "sub-link", Email: email, EmailVerified: true})
			tab := browser.newTab(t)
			tab.navigate(closed.URL + "/settings")
			tab.waitLocation("/login?next=/settings")
			tab.waitFor("the provider button", `document.querySelector("#oidc-signin")?.textContent === "Sign in with Pocket-ID"`)
			tab.click("#oidc-signin")
			tab.waitLocation("/settings")
			tab.waitFor("the profile", `document.querySelector("#signed-in-as")?.textContent.includes(`+jsString(email)+`)`)

			q := idp.lastAuthorize(t)
			if q.Get("state") == "" || len(q.Get("code_challenge")) < 43 || q.Get("code_challenge_method") != "S256" {
				t.Fatalf("expected state and an S256 PKCE challenge in the authorize request, got %v", q)
			}
			if got, want := q.Get("redirect_uri"), closed.URL+"/auth/callback"; got != want {
				t.Fatalf("expected redirect_uri %q, got %q", want, got)
			}
			if q.Get("client_id") != idp.ClientID || q.Get("response_type") != "code" {
				t.Fatalf("unexpected client_id or response_type: %v", q)
			}
			if pending := mustEval[string](tab, `sessionStorage.getItem("phaseflow.oauth2") || ""`); pending != "" {
				t.Fatal("the state and PKCE verifier stay in sessionStorage after the callback")
			}
			if signedInAs := mustEval[string](tab, `JSON.parse(localStorage.getItem("pocketbase_auth")).record.id`); signedInAs != id {
				t.Fatalf("expected the existing account %s to be signed in, got %s", id, signedInAs)
			}
		})

		t.Run("closed registration refuses an unknown identity with a readable message", func(t *testing.T) {
			idp.QueueUser(&mockoidc.MockUser{Subject: "sub-unknown", Email: "stranger@example.com", EmailVerified: true})
			tab := browser.newTab(t)
			tab.navigate(closed.URL + "/login")
			tab.click("#oidc-signin")
			tab.waitFor("the error", `document.querySelector("[role=alert]")?.textContent.includes("No account for this identity.")`)
			if tab.storedToken() != "" || uiFindUser(t, closed, "stranger@example.com") != "" {
				t.Fatal("an unknown identity got a session or an account")
			}
			tab.click("#back-to-login")
			tab.waitLocation("/login")
		})

		t.Run("a tampered state is refused", func(t *testing.T) {
			idp.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
				q := r.URL.Query()
				q.Set("state", q.Get("state")+"-tampered")
				r.URL.RawQuery = q.Encode()
				return false // the provider redirects back with the altered state
			})
			defer idp.setIntercept(nil)
			tab := browser.newTab(t)
			tab.navigate(closed.URL + "/login")
			tab.click("#oidc-signin")
			tab.waitFor("the refusal", `document.querySelector("[role=alert]")?.textContent.includes("state mismatch")`)
			if tab.storedToken() != "" || tab.sessionCookie(closed) != nil {
				t.Fatal("a tampered state signed the browser in")
			}
			if address := mustEval[string](tab, `location.href`); strings.Contains(address, "code=") {
				t.Fatalf("the code stays in the address bar: %s", address)
			}
		})

		t.Run("a sign-in cancelled at the provider says so", func(t *testing.T) {
			idp.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
				back, _ := url.Parse(r.URL.Query().Get("redirect_uri"))
				back.RawQuery = url.Values{"error": {"access_denied"}, "state": {r.URL.Query().Get("state")}}.Encode()
				http.Redirect(w, r, back.String(), http.StatusFound)
				return true
			})
			defer idp.setIntercept(nil)
			tab := browser.newTab(t)
			tab.navigate(closed.URL + "/login")
			tab.click("#oidc-signin")
			tab.waitFor("the message", `document.querySelector("[role=alert]")?.textContent.includes("cancelled")`)
			if tab.storedToken() != "" {
				t.Fatal("a cancelled sign-in left a session")
			}
		})

		t.Run("open registration creates the account on the first sign-in", func(t *testing.T) {
			email := "oidc-new@example.com"
			idp.QueueUser(&mockoidc.MockUser{Subject: "sub-new", Email: email, EmailVerified: true})
			tab := browser.newTab(t)
			tab.navigate(open.URL + "/login")
			tab.click("#oidc-signin")
			tab.waitLocation("/")
			tab.waitFor("the prompt for a last period date", `document.querySelector("#cycle-unknown")`)
			if uiFindUser(t, open, email) == "" {
				t.Fatal("no account was created")
			}
		})
	})
}
