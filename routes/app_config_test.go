package routes_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"phaseflow/config"
	"phaseflow/internal/apptest"
)

func TestAppConfigTellsWhetherTheIdentityProviderIsAvailable(t *testing.T) {
	t.Parallel()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })

	scenarios := []struct {
		name   string
		oidc   config.OIDC
		open   bool
		expect string
	}{
		{"no provider configured", config.OIDC{}, true,
			`{"configured":false,"available":false,"displayName":""}`},
		{"the provider is down on a fresh data dir", config.OIDC{IssuerURL: "http://127.0.0.1:1", ClientID: "a", ClientSecret: "b", DisplayName: "Pocket-ID"}, false,
			`{"configured":true,"available":false,"displayName":"Pocket-ID"}`},
		{"the provider was discovered", config.OIDC{IssuerURL: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret, DisplayName: "Company ID"}, false,
			`{"configured":true,"available":true,"displayName":"Company ID"}`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			cfg := apptest.Config(t)
			cfg.OIDC, cfg.OpenRegistration = s.oidc, s.open
			srv := apptest.Start(t, cfg)
			res := srv.Do(t, http.MethodGet, "/api/app-config", nil, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("expected 200, got %d", res.Status)
			}
			var body struct {
				OpenRegistration bool            `json:"openRegistration"`
				OIDC             json.RawMessage `json:"oidc"`
			}
			if err := json.Unmarshal(res.Body, &body); err != nil {
				t.Fatal(err)
			}
			if got := string(body.OIDC); got != s.expect || body.OpenRegistration != s.open {
				t.Fatalf("expected oidc %s and openRegistration %v, got %s", s.expect, s.open, res.Body)
			}
		})
	}
}
