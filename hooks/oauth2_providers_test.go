package hooks_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/internal/apptest"
	"phaseflow/oidc"
	"phaseflow/sessions"
	"phaseflow/settings"
	"phaseflow/users"
)

// secondProvider is the name and label of the extra OAuth2 provider the tests configure as an
// operator would in the admin UI: PocketBase's generic "oidc2" provider, standing for GitHub,
// Google and the like (none of which is exempt from the second factor).
const (
	secondProvider      = "oidc2"
	secondProviderLabel = "Acme ID"
)

// addSecondProvider stores an OAuth2 provider named secondProvider for the OIDC server m in the
// users collection, before the other providers, as an operator does in the admin UI (users →
// Options → OAuth2).
func addSecondProvider(t *testing.T, app core.App, m *mockoidc.MockOIDC) {
	t.Helper()
	md, err := oidc.Discover(context.Background(), nil, m.Issuer())
	if err != nil {
		t.Fatalf("discovery of the second provider: %v", err)
	}
	pc := settings.ProviderConfig(config.OIDC{ClientID: m.ClientID, ClientSecret: m.ClientSecret, DisplayName: secondProviderLabel}, md)
	pc.Name = secondProvider
	col, err := app.FindCollectionByNameOrId(users.Collection)
	if err != nil {
		t.Fatal(err)
	}
	col.OAuth2.Providers = append([]core.OAuth2ProviderConfig{pc}, col.OAuth2.Providers...)
	if err := app.Save(col); err != nil {
		t.Fatalf("failed to store the second provider: %v", err)
	}
}

// twoProviders starts PhaseFlow with Pocket-ID (oidc, with RP-initiated logout) from the
// environment and a second provider from the admin UI, each its own mockoidc.
func twoProviders(t *testing.T, open bool, mutate ...func(*config.Config)) (*apptest.Server, config.Config, *mockoidc.MockOIDC, *mockoidc.MockOIDC) {
	t.Helper()
	pocketID, _ := startProviderWithLogout(t)
	other := startProvider(t)
	cfg := oidcConfig(t, pocketID, open)
	cfg.AuthRateLimit = 100
	for _, f := range mutate {
		f(&cfg)
	}
	srv := apptest.Start(t, cfg)
	addSecondProvider(t, srv.App, other)
	return srv, cfg, pocketID, other
}

func secondSignIn(t *testing.T, srv *apptest.Server, cfg config.Config) apptest.Response {
	t.Helper()
	return oauth2SignInWith(t, srv, cfg, secondProvider, secondProviderLabel, nil, nil)
}

func TestOAuth2ProviderBesidesOIDC(t *testing.T) {
	t.Parallel()
	srv, cfg, pocketID, other := twoProviders(t, false)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	mfa := apptest.CreateUser(t, srv.App, "mfa@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })

	t.Run("auth-methods lists both providers for the redirect flow and no secret", func(t *testing.T) {
		am := srv.Do(t, "GET", "/api/collections/users/auth-methods", nil, nil)
		oauth2, _ := am.JSON(t)["oauth2"].(map[string]any)
		providers, _ := oauth2["providers"].([]any)
		var names []string
		for _, raw := range providers {
			p, _ := raw.(map[string]any)
			names = append(names, p["name"].(string))
			for _, k := range []string{"displayName", "state", "authURL", "codeVerifier"} {
				if s, _ := p[k].(string); s == "" {
					t.Fatalf("expected %s of %s, got %v", k, p["name"], p)
				}
			}
		}
		if strings.Join(names, ",") != secondProvider+","+users.OIDCProvider {
			t.Fatalf("expected %s and oidc in the stored order, got %v", secondProvider, names)
		}
		if strings.Contains(string(am.Body), other.ClientSecret) || strings.Contains(string(am.Body), pocketID.ClientSecret) {
			t.Fatal("auth-methods leaks a client secret")
		}
	})

	t.Run("the second provider signs an existing account in by verified email", func(t *testing.T) {
		other.QueueUser(&mockoidc.MockUser{Subject: "acme-ana", Email: "ana@example.com", EmailVerified: true})
		res := secondSignIn(t, srv, cfg)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
		}
		body := res.JSON(t)
		if record, _ := body["record"].(map[string]any); record["id"] != ana.Id {
			t.Fatalf("expected ana's account, got %v", record["id"])
		}
		token, _ := body["token"].(string)
		s, err := sessions.Find(srv.App, users.SessionID(token))
		if err != nil || s.Method != secondProvider || s.IDToken != "" {
			t.Fatalf("expected a %s session without an id_token, got %+v (%v)", secondProvider, s, err)
		}
		links, _ := srv.App.FindAllExternalAuthsByRecord(ana)
		if len(links) != 1 || links[0].Provider() != secondProvider || links[0].ProviderId() != "acme-ana" {
			t.Fatalf("expected one %s link, got %v", secondProvider, links)
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'oauth2' && outcome = 'success' && user = {:u}", map[string]any{"u": ana.Id})
		if len(evs) != 1 || evs[0].GetString("identity") != "ana@example.com" {
			t.Fatalf("expected one audited sign-in, got %d", len(evs))
		}
		// Only Pocket-ID's id_token is kept for RP-initiated logout; this sign-out is plain.
		if out := srv.Do(t, "POST", "/api/user/logout", nil, apptest.Auth(token)); out.Status != http.StatusNoContent {
			t.Fatalf("expected 204 without an identity provider logout, got %d: %s", out.Status, out.Body)
		}
	})

	t.Run("the second provider is not exempt from the second factor, Pocket-ID is", func(t *testing.T) {
		other.QueueUser(&mockoidc.MockUser{Subject: "acme-mfa", Email: "mfa@example.com", EmailVerified: true})
		res := secondSignIn(t, srv, cfg)
		body := res.JSON(t)
		mfaID, _ := body["mfaId"].(string)
		if res.Status != http.StatusUnauthorized || mfaID == "" || body["token"] != nil {
			t.Fatalf("expected 401 with an mfaId and no token, got %d: %s", res.Status, res.Body)
		}
		if evs := apptest.AuthEvents(t, srv.App, "method = 'oauth2' && outcome = 'mfa_required' && user = {:u}", map[string]any{"u": mfa.Id}); len(evs) != 1 {
			t.Fatalf("expected one mfa_required row, got %d", len(evs))
		}

		before := srv.App.TestMailer.TotalSend()
		otpID := requestOTP(t, srv, "mfa@example.com")
		code := waitForCode(t, srv.App, before+1)
		done := srv.Do(t, "POST", "/api/collections/users/auth-with-otp?mfaId="+mfaID, map[string]string{"otpId": otpID, "password": code}, nil)
		if done.Status != http.StatusOK {
			t.Fatalf("expected the email code to complete the sign-in, got %d: %s", done.Status, done.Body)
		}

		pocketID.QueueUser(&mockoidc.MockUser{Subject: "pid-mfa", Email: "mfa@example.com", EmailVerified: true})
		if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusOK {
			t.Fatalf("expected Pocket-ID to sign the mfa account in alone, got %d: %s", res.Status, res.Body)
		}
	})

	t.Run("closed registration refuses an unknown identity of the second provider", func(t *testing.T) {
		before := apptest.UsersSnapshot(t, srv.App)
		other.QueueUser(&mockoidc.MockUser{Subject: "acme-eve", Email: "eve@example.com", EmailVerified: true})
		res := secondSignIn(t, srv, cfg)
		if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), users.MsgNoAccount) {
			t.Fatalf("expected 403 no account, got %d: %s", res.Status, res.Body)
		}
		if after := apptest.UsersSnapshot(t, srv.App); after != before {
			t.Fatal("a refused sign-in changed the users")
		}
	})

	t.Run("a new identity of the second provider for a linked account names the admin UI, not oidc unlink", func(t *testing.T) {
		other.QueueUser(&mockoidc.MockUser{Subject: "acme-ana-new", Email: "ana@example.com", EmailVerified: true})
		res := secondSignIn(t, srv, cfg)
		if res.Status != http.StatusBadRequest || res.JSON(t)["message"] != users.MsgLinkedElsewhereOther {
			t.Fatalf("expected 400 %q, got %d: %s", users.MsgLinkedElsewhereOther, res.Status, res.Body)
		}
	})

	t.Run("a start keeps the operator's provider", func(t *testing.T) {
		if err := settings.Apply(srv.App, cfg); err != nil {
			t.Fatal(err)
		}
		if err := settings.SyncOIDC(context.Background(), srv.App, cfg); err != nil {
			t.Fatal(err)
		}
		col, _ := srv.App.FindCollectionByNameOrId(users.Collection)
		if pc, ok := col.OAuth2.GetProviderConfig(secondProvider); !ok || pc.ClientSecret != other.ClientSecret || pc.DisplayName != secondProviderLabel {
			t.Fatalf("expected the second provider kept, got %+v", col.OAuth2.Providers)
		}
	})
}

func TestOAuth2ProviderBesidesOIDCOpenRegistration(t *testing.T) {
	t.Parallel()
	srv, cfg, _, other := twoProviders(t, true)
	other.QueueUser(&mockoidc.MockUser{Subject: "acme-new", Email: "New@Example.com", EmailVerified: true})
	res := secondSignIn(t, srv, cfg)
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	u, err := srv.App.FindAuthRecordByEmail(users.Collection, "new@example.com")
	if err != nil || !u.Verified() || !u.GetBool(users.FieldApproved) || u.GetInt(users.FieldCycleLength) != 28 || u.GetBool(users.FieldMFA) {
		t.Fatalf("expected a verified, approved account in lower case with defaults, got %v %v", err, u.PublicExport())
	}
}

func TestOAuth2ProviderBesidesOIDCWithoutMail(t *testing.T) {
	t.Parallel()
	// Not local and no SMTP: no mail, so no second factor can be sent.
	srv, cfg, pocketID, other := twoProviders(t, false, func(c *config.Config) { c.AppURL = "https://phaseflow.example.com" })
	user := apptest.CreateUser(t, srv.App, "mfa@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })

	other.QueueUser(&mockoidc.MockUser{Subject: "acme-mfa", Email: "mfa@example.com", EmailVerified: true})
	res := secondSignIn(t, srv, cfg)
	want := "This account needs a second factor, which this server cannot send right now, so this sign-in method alone is not enough. Sign in with Pocket-ID instead."
	if res.Status != http.StatusForbidden || res.JSON(t)["message"] != want || strings.Contains(string(res.Body), "token") {
		t.Fatalf("expected 403 %q, got %d: %s", want, res.Status, res.Body)
	}
	if n, _ := srv.App.CountRecords(sessions.Collection); n != 0 {
		t.Fatalf("expected no session, got %d", n)
	}
	evs := apptest.AuthEvents(t, srv.App, "method = 'oauth2' && outcome = 'failure' && user = {:u}", map[string]any{"u": user.Id})
	if len(evs) != 1 || !strings.Contains(evs[0].GetString("reason"), "second factor") {
		t.Fatalf("expected the refusal audited, got %d", len(evs))
	}

	pocketID.QueueUser(&mockoidc.MockUser{Subject: "pid-mfa", Email: "mfa@example.com", EmailVerified: true})
	if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusOK {
		t.Fatalf("expected Pocket-ID to sign in without mail, got %d: %s", res.Status, res.Body)
	}
}
