package e2e

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"phaseflow/internal/apptest"
)

// provider is a real OIDC provider (mockoidc) on 127.0.0.1 whose /authorize requests the tests can
// observe and, for the error cases, answer themselves.
type provider struct {
	*mockoidc.MockOIDC
	endSession *apptest.EndSession

	mu        sync.Mutex
	authorize []url.Values
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

// newProvider starts a provider; stop it with shutdown.
func newProvider() (*provider, error) {
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return nil, err
	}
	p := &provider{MockOIDC: m, endSession: apptest.NewEndSession(m)}
	// RP-initiated logout as Pocket-ID does it; mockoidc has none.
	if err := m.AddMiddleware(p.endSession.Middleware); err != nil {
		return nil, err
	}
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
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if err := m.Start(ln, nil); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *provider) shutdown() {
	_ = p.Shutdown()
	p.endSession.Close()
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

// cancelledNotice is what /login says after a sign-in was cancelled at the provider.
const cancelledNotice = "Sign-in was cancelled. You can try again, or use another way to sign in."

// TestBrowserOIDC drives the redirect flow through the shared provider. Its scenarios share the
// provider's user queue and interceptor, so they run in order, and no other test uses them.
func TestBrowserOIDC(t *testing.T) {
	t.Parallel()
	idp := sharedProvider(t)
	closed := closedServer(t)

	t.Run("the redirect carries state and PKCE, and the callback links the existing account", func(t *testing.T) {
		email := "oidc-link@example.com"
		id := createUser(t, closed, email, false)
		idp.QueueUser(&mockoidc.MockUser{Subject: "sub-link", Email: email, EmailVerified: true})
		tab := newTab(t)
		tab.navigate(closed.URL + "/settings")
		tab.waitLocation("/login?next=/settings")
		tab.waitFor("the provider button", `document.querySelector("#oidc-signin")?.textContent === "Sign in with Pocket-ID"`)
		tab.click("#oidc-signin")
		tab.waitLocation("/settings")
		tab.waitSignedInAs(email)

		q := idp.lastAuthorize(t)
		// S256 of a 32-byte verifier is 43 base64url characters.
		if q.Get("state") == "" || len(q.Get("code_challenge")) != 43 || q.Get("code_challenge_method") != "S256" {
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

	t.Run("sign-out ends the session and offers to sign out of the provider too", func(t *testing.T) {
		email := "oidc-logout@example.com"
		createUser(t, closed, email, false)
		idp.QueueUser(&mockoidc.MockUser{Subject: "sub-logout", Email: email, EmailVerified: true})
		tab := newTab(t)
		tab.navigate(closed.URL + "/login?next=/settings")
		tab.click("#oidc-signin")
		tab.waitLocation("/settings")
		tab.waitSignedInAs(email)
		tab.click("#sign-out")
		tab.waitLocation("/login")
		tab.waitFor("the offer", `document.querySelector("#idp-logout-link")?.textContent === "Sign out of Pocket-ID"`)
		before := len(idp.endSession.Requests())
		tab.click("#idp-logout-link")
		// A valid id_token_hint: the provider ends its session and sends the browser back.
		tab.waitLocation("/login")
		reqs := idp.endSession.Requests()
		if len(reqs) != before+1 {
			t.Fatalf("expected one end-session request, got %d", len(reqs)-before)
		}
		q := reqs[len(reqs)-1]
		if q.Get("post_logout_redirect_uri") != closed.URL+"/login" || q.Get("client_id") != idp.ClientID ||
			tokenClaim(t, q.Get("id_token_hint"), "sub") != "sub-logout" {
			t.Fatalf("unexpected end-session request %v", q)
		}
		if mustEval[bool](tab, `Boolean(document.querySelector("#idp-logout"))`) {
			t.Fatal("the offer is shown again after coming back")
		}
	})

	t.Run("closed registration refuses an unknown identity with a readable message", func(t *testing.T) {
		idp.QueueUser(&mockoidc.MockUser{Subject: "sub-unknown", Email: "stranger@example.com", EmailVerified: true})
		tab := newTab(t)
		tab.navigate(closed.URL + "/login")
		tab.click("#oidc-signin")
		tab.waitFor("the error", `document.querySelector("[role=alert]")?.textContent.includes("No account for this identity.")`)
		if tab.storedToken() != "" {
			t.Fatal("an unknown identity got a session")
		}
		if ids := findUsers(t, closed, "stranger@example.com"); len(ids) != 0 {
			t.Fatalf("expected no account for the unknown identity, got %d", len(ids))
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
		tab := newTab(t)
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

	t.Run("a sign-in cancelled at the provider returns to /login, which says so", func(t *testing.T) {
		idp.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
			back, _ := url.Parse(r.URL.Query().Get("redirect_uri"))
			back.RawQuery = url.Values{"error": {"access_denied"}, "state": {r.URL.Query().Get("state")}}.Encode()
			http.Redirect(w, r, back.String(), http.StatusFound)
			return true
		})
		defer idp.setIntercept(nil)
		tab := newTab(t)
		tab.navigate(closed.URL + "/login?next=/settings")
		tab.click("#oidc-signin")
		tab.waitLocation("/login?next=/settings")
		tab.waitFor("the message", `document.querySelector("[role=status]")?.textContent === `+jsString(cancelledNotice))
		if tab.storedToken() != "" {
			t.Fatal("a cancelled sign-in left a session")
		}
		if got := mustEval[string](tab, `document.querySelector("[role=alert]").textContent`); got != "" {
			t.Fatalf("expected no error besides the notice, got %q", got)
		}
	})

	t.Run("Cancel on the provider's consent page comes back to PhaseFlow, which says so", func(t *testing.T) {
		// Pocket-ID's consent page sends Cancel to document.referrer, or to its own "/" without one.
		var mu sync.Mutex
		var referer string
		idp.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
			mu.Lock()
			referer = r.Header.Get("Referer")
			mu.Unlock()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, `<!doctype html><title>Consent</title><p>Sign in to PhaseFlow?</p>`+
				`<button id="cancel" onclick="location.href = document.referrer || '/'">Cancel</button>`)
			return true
		})
		defer idp.setIntercept(nil)
		tab := newTab(t)
		tab.navigate(closed.URL + "/login?next=/settings")
		tab.click("#oidc-signin")
		tab.waitFor("the consent page", `document.querySelector("#cancel")`)
		mu.Lock()
		got := referer
		mu.Unlock()
		// The origin only: neither the path nor next leave PhaseFlow.
		if got != closed.URL+"/" {
			t.Fatalf("expected the provider to see Referer %q, got %q", closed.URL+"/", got)
		}
		tab.click("#cancel")
		tab.waitLocation("/login")
		if host := mustEval[string](tab, `location.origin`); host != closed.URL {
			t.Fatalf("expected to be back on %s, got %s", closed.URL, host)
		}
		tab.waitFor("the message", `document.querySelector("[role=status]")?.textContent === `+jsString(cancelledNotice))
		if tab.storedToken() != "" || mustEval[string](tab, `sessionStorage.getItem("phaseflow.oauth2") || ""`) != "" {
			t.Fatal("a cancelled sign-in left a session or a pending flow")
		}
	})

	t.Run("open registration creates the account on the first sign-in", func(t *testing.T) {
		open := openServer(t)
		email := "oidc-new@example.com"
		idp.QueueUser(&mockoidc.MockUser{Subject: "sub-new", Email: email, EmailVerified: true})
		tab := newTab(t)
		tab.navigate(open.URL + "/login")
		tab.click("#oidc-signin")
		tab.waitLocation("/")
		tab.waitFor("the prompt for a last period date", `document.querySelector("#cycle-unknown")`)
		if ids := findUsers(t, open, email); len(ids) != 1 {
			t.Fatalf("expected 1 account for %s, got %d", email, len(ids))
		}
	})
}
