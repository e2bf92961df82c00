package e2e

import (
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// addProvider stores an extra OAuth2 provider in the users collection through the superuser
// API, as the admin UI does (users → Options → OAuth2): PocketBase's generic "oidc2" provider
// for the OIDC server p, labelled label, placed before the providers already stored. The
// stored ones are sent back by name only; PocketBase merges them with what it has (their
// secrets included).
func addProvider(t *testing.T, srv *Server, p *provider, label string) {
	t.Helper()
	var col struct {
		OAuth2 struct {
			Providers []struct {
				Name string `json:"name"`
			} `json:"providers"`
		} `json:"oauth2"`
	}
	admin := srv.superuser(t)
	if err := admin.Do(t.Context(), "GET", "/api/collections/users", nil, &col); err != nil {
		t.Fatal(err)
	}
	providers := []map[string]any{{
		"name": "oidc2", "displayName": label, "clientId": p.ClientID, "clientSecret": p.ClientSecret,
		"authURL": p.AuthorizationEndpoint(), "tokenURL": p.TokenEndpoint(), "userInfoURL": "", "pkce": true,
		"extra": map[string]any{"jwksURL": p.JWKSEndpoint(), "issuers": []string{p.Issuer()}},
	}}
	for _, stored := range col.OAuth2.Providers {
		providers = append(providers, map[string]any{"name": stored.Name})
	}
	body := map[string]any{"oauth2": map[string]any{"enabled": true, "providers": providers}}
	if err := admin.Do(t.Context(), "PATCH", "/api/collections/users", body, nil); err != nil {
		t.Fatalf("failed to add the provider: %v", err)
	}
}

// TestBrowserEveryProvider: /login and /signup offer every provider the operator enabled,
// Pocket-ID first whatever the stored order, and the callback page finishes a sign-in with any
// of them, the second step included for a provider that is not exempt from it.
func TestBrowserEveryProvider(t *testing.T) {
	t.Parallel()
	pocketID, err := newProvider()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pocketID.shutdown)
	acme, err := newProvider()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(acme.shutdown)
	srv := startServer(t, append(append(pocketID.env(), adminEnv...), "AUTH_RATE_LIMIT=1000", "OPEN_REGISTRATION=true")...)
	addProvider(t, srv, acme, "Acme ID")

	buttons := `[...document.querySelectorAll("button[data-provider]")].map((b) => b.dataset.provider + "=" + b.textContent).join(",")`

	t.Run("/login lists both providers, Pocket-ID first", func(t *testing.T) {
		tab := newTab(t)
		tab.navigate(srv.URL + "/login")
		tab.waitFor("both buttons", `document.querySelectorAll("button[data-provider]").length === 2`)
		if got, want := mustEval[string](tab, buttons), "oidc=Sign in with Pocket-ID,oidc2=Sign in with Acme ID"; got != want {
			t.Fatalf("expected %q, got %q", want, got)
		}
		if !mustEval[bool](tab, `document.querySelector("#oidc-signin").classList.contains("button-primary")`) {
			t.Fatal("expected Pocket-ID's button to be the primary one")
		}
	})

	t.Run("/signup lists both providers, Pocket-ID first", func(t *testing.T) {
		tab := newTab(t)
		tab.navigate(srv.URL + "/signup")
		tab.waitFor("both buttons", `document.querySelectorAll("button[data-provider]").length === 2`)
		if got, want := mustEval[string](tab, buttons), "oidc=Sign up with Pocket-ID,oidc2=Sign up with Acme ID"; got != want {
			t.Fatalf("expected %q, got %q", want, got)
		}
	})

	t.Run("the callback finishes a sign-in with the second provider", func(t *testing.T) {
		email := "acme-user@example.com"
		id := createUser(t, srv, email, false)
		acme.QueueUser(&mockoidc.MockUser{Subject: "acme-user", Email: email, EmailVerified: true})
		tab := newTab(t)
		tab.navigate(srv.URL + "/login?next=/settings")
		tab.click("#oauth2-signin-oidc2")
		tab.waitLocation("/settings")
		tab.waitSignedInAs(email)
		if got := acme.lastAuthorize(t).Get("redirect_uri"); got != srv.URL+"/auth/callback" {
			t.Fatalf("expected the callback as redirect_uri, got %q", got)
		}
		if signedInAs := mustEval[string](tab, `JSON.parse(localStorage.getItem("pocketbase_auth")).record.id`); signedInAs != id {
			t.Fatalf("expected %s signed in, got %s", id, signedInAs)
		}
		if pending := mustEval[string](tab, `sessionStorage.getItem("phaseflow.oauth2") || ""`); pending != "" {
			t.Fatal("the pending flow stays in sessionStorage after the callback")
		}
	})

	t.Run("after the second provider an account with a second factor is asked for an email code", func(t *testing.T) {
		email := "acme-mfa@example.com"
		createUser(t, srv, email, true)
		acme.QueueUser(&mockoidc.MockUser{Subject: "acme-mfa", Email: email, EmailVerified: true})
		tab := newTab(t)
		tab.navigate(srv.URL + "/login?next=/settings")
		tab.click("#oauth2-signin-oidc2")
		tab.waitFor("the second step", `document.querySelector("#mfa-form input[name=email]")`)
		if tab.storedToken() != "" {
			t.Fatal("one factor signed the account in")
		}
		if got := tab.text("h1"); got != "Second step" {
			t.Fatalf("expected the heading Second step, got %q", got)
		}
		offset := len(srv.Output.String())
		tab.typeInto("#mfa-form input[name=email]", email)
		tab.click("#mfa-request")
		code := mailedCode(t, srv, email, offset)
		tab.typeInto("#mfa-form input[name=code]", code)
		tab.click("#mfa-form button[type=submit]:not([hidden])")
		tab.waitLocation("/settings")
		tab.waitSignedInAs(email)
	})
}
