package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"phaseflow/client"
)

func TestInvalidConfigurationExitsWithCode2(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  []string
		want []string
	}{
		{"http issuer on a public host", []string{"POCKETBASE_OIDC_ISSUER_URL=http://id.example.com", "POCKETBASE_OIDC_CLIENT_ID=a", "POCKETBASE_OIDC_CLIENT_SECRET=b"},
			[]string{"POCKETBASE_OIDC_ISSUER_URL: must be an https URL (http only for localhost)"}},
		{"short cron secret", []string{"CRON_SECRET=too-short-secret-value"},
			[]string{"CRON_SECRET: must be at least 32 characters"}},
		{"half the OIDC variables", []string{"POCKETBASE_OIDC_CLIENT_ID=a"},
			[]string{"POCKETBASE_OIDC_ISSUER_URL: POCKETBASE_OIDC_ISSUER_URL, POCKETBASE_OIDC_CLIENT_ID and POCKETBASE_OIDC_CLIENT_SECRET must be all set or all unset"}},
		{"several problems at once", []string{"AUTH_RATE_LIMIT=0", "SESSION_DAYS=abc", "OPEN_REGISTRATION=maybe"},
			[]string{"AUTH_RATE_LIMIT: must be a whole number from 1 to 1000", "SESSION_DAYS: must be a whole number from 1 to 365", "OPEN_REGISTRATION: must be true or false"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, code := run(t, baseEnv(c.env...), "serve", "--http", "127.0.0.1:0")
			if code != 2 {
				t.Fatalf("expected exit code 2, got %d: %s", code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Fatalf("expected %q in the output, got %q", w, out)
				}
			}
			if strings.Contains(out, "too-short-secret-value") {
				t.Fatal("the output shows the secret")
			}
		})
	}
}

func TestServeWithOIDC(t *testing.T) {
	t.Parallel()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	srv := startServer(t, append([]string{
		"POCKETBASE_OIDC_ISSUER_URL=" + m.Issuer(),
		"POCKETBASE_OIDC_CLIENT_ID=" + m.ClientID,
		"POCKETBASE_OIDC_CLIENT_SECRET=" + m.ClientSecret,
	}, adminEnv...)...)

	t.Run("auth-methods lists password, OTP, MFA and the oidc provider", func(t *testing.T) {
		methods, err := mustClient(t, srv).AuthMethods(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !methods.Password.Enabled || !slices.Equal(methods.Password.IdentityFields, []string{"email"}) ||
			!methods.OTP.Enabled || !methods.MFA.Enabled || !methods.OAuth2.Enabled || len(methods.OAuth2.Providers) != 1 {
			t.Fatalf("expected password (email), OTP, MFA and one OAuth2 provider, got %+v", methods)
		}
		if p, ok := methods.Provider("oidc"); !ok || p.DisplayName != "Pocket-ID" {
			t.Fatalf("expected the oidc provider labelled Pocket-ID, got %+v", methods.OAuth2.Providers)
		}
	})
	t.Run("the admin UI is served", func(t *testing.T) {
		if err := mustClient(t, srv).Do(t.Context(), "GET", "/_/", nil, nil); err != nil {
			t.Fatalf("expected 200, got %v", err)
		}
	})
	t.Run("the start log names the redirect URL and hides the secrets", func(t *testing.T) {
		out := srv.Output.String()
		if !strings.Contains(out, srv.URL+"/auth/callback") {
			t.Fatalf("expected the redirect URL in the log, got %s", out)
		}
		for _, secret := range []string{m.ClientSecret, adminPassword} {
			if strings.Contains(out, secret) {
				t.Fatal("the log shows a secret")
			}
		}
	})
	t.Run("the superuser from the environment can sign in, with a mailed second factor", func(t *testing.T) {
		c, err := signInSuperuser(t.Context(), srv)
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Items []struct {
				Email string `json:"email"`
			} `json:"items"`
		}
		if err := c.Do(t.Context(), "GET", "/api/collections/_superusers/records", nil, &list); err != nil ||
			len(list.Items) != 1 || list.Items[0].Email != adminEmail {
			t.Fatalf("expected the superuser API to list %s, got %+v %v", adminEmail, list, err)
		}
	})

	t.Run("oidc check prints what discovery found", func(t *testing.T) {
		out, code := run(t, baseEnv("POCKETBASE_OIDC_ISSUER_URL="+m.Issuer(), "POCKETBASE_OIDC_CLIENT_ID="+m.ClientID,
			"POCKETBASE_OIDC_CLIENT_SECRET="+m.ClientSecret), "oidc", "check")
		if code != 0 || !strings.Contains(out, m.TokenEndpoint()) || !strings.Contains(out, "/auth/callback") {
			t.Fatalf("expected success with the token endpoint, got %d: %s", code, out)
		}
		if strings.Contains(out, m.ClientSecret) {
			t.Fatal("oidc check shows the client secret")
		}
	})
	t.Run("oidc check fails on an issuer mismatch", func(t *testing.T) {
		issuer := strings.Replace(m.Issuer(), "127.0.0.1", "localhost", 1)
		out, code := run(t, baseEnv("POCKETBASE_OIDC_ISSUER_URL="+issuer, "POCKETBASE_OIDC_CLIENT_ID=a",
			"POCKETBASE_OIDC_CLIENT_SECRET=b"), "oidc", "check")
		if code != 1 || !strings.Contains(out, "does not match") {
			t.Fatalf("expected exit code 1 about the issuer, got %d: %s", code, out)
		}
	})
}

func TestServeWithUnreachableIssuerKeepsOtherMethods(t *testing.T) {
	t.Parallel()
	srv := startServer(t,
		"POCKETBASE_OIDC_ISSUER_URL=http://127.0.0.1:1",
		"POCKETBASE_OIDC_CLIENT_ID=a",
		"POCKETBASE_OIDC_CLIENT_SECRET=b",
	)
	methods, err := mustClient(t, srv).AuthMethods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !methods.Password.Enabled || !slices.Equal(methods.Password.IdentityFields, []string{"email"}) {
		t.Fatalf("expected password sign-in, got %+v", methods.Password)
	}
	if !strings.Contains(srv.Output.String(), "OIDC discovery failed") {
		t.Fatalf("expected a warning in the log, got %s", srv.Output.String())
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	srv := startServer(t, adminEnv...)
	anaID := createUser(t, srv, "ana@example.com", false, map[string]any{"notificationTime": "00:00", "lastPeriodDate": "2026-11-01 00:00:00.000Z"})
	env := baseEnv()

	t.Run("impersonate prints a token the server accepts", func(t *testing.T) {
		out, code := runIn(t, srv.Dir, env, "impersonate", "ana@example.com", "--duration", "10m")
		if code != 0 {
			t.Fatalf("expected exit 0, got %d: %s", code, out)
		}
		c := mustClient(t, srv)
		c.SetToken(strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]))
		if p, err := c.User(t.Context()); err != nil || p.Email != "ana@example.com" {
			t.Fatalf("expected the token to work for ana, got %+v %v", p, err)
		}
	})
	t.Run("sessions list and revoke reach the running server", func(t *testing.T) {
		signedIn := signIn(t, srv, "ana@example.com")
		out, code := runIn(t, srv.Dir, env, "sessions", "list", "ana@example.com")
		sid := tokenClaim(t, signedIn.Token(), "sid")
		if code != 0 || !strings.Contains(out, sid) {
			t.Fatalf("expected the session %s listed, got %d: %s", sid, code, out)
		}
		out, code = runIn(t, srv.Dir, env, "sessions", "revoke", "ana@example.com", "--id", sid)
		if code != 0 || !strings.Contains(out, "ended 1 session(s)") {
			t.Fatalf("expected the session ended, got %d: %s", code, out)
		}
		// Another process ended it: the server's session cache notices within its TTL (10 s).
		eventually(t, "the revoked token refused by the running server", func() bool {
			_, err := signedIn.User(t.Context())
			return client.StatusCode(err) == http.StatusUnauthorized
		})
	})
	t.Run("cron run prints the job result", func(t *testing.T) {
		// The server's own job runs every 5 minutes and may have sent today's reminder already.
		if err := srv.superuser(t).Do(t.Context(), "PATCH", "/api/collections/users/records/"+anaID,
			map[string]any{"lastNotifiedOn": ""}, nil); err != nil {
			t.Fatal(err)
		}
		out, code := runIn(t, srv.Dir, env, "cron", "run", "notifications")
		if code != 0 || !strings.Contains(out, `{"job":"notifications","processed":1,"sent":1,`) {
			t.Fatalf("expected one reminder, got %d: %s", code, out)
		}
		if !strings.Contains(out, "SMTP not configured") {
			t.Fatalf("expected the mail on the console, got %s", out)
		}
		out, code = runIn(t, srv.Dir, env, "cron", "run", "nope")
		if code != 1 || !strings.Contains(out, `job "nope": unknown job`) {
			t.Fatalf("expected exit code 1 with an unknown-job error, got %d: %s", code, out)
		}
	})
}

func TestEncryptionKeyEncryptsStoredSettings(t *testing.T) {
	t.Parallel()
	plain := startServer(t)
	encrypted := startServer(t, "PB_ENCRYPTION_KEY=0123456789abcdef0123456789abcdef")
	// Settings are written at start; the rate-limit label PhaseFlow adds is in their JSON.
	if !dataFilesContain(t, plain.Dir, `users:auth`) {
		t.Fatal("expected plain-text settings without a key (the check would not be meaningful)")
	}
	if dataFilesContain(t, encrypted.Dir, `users:auth`) {
		t.Fatal("expected the settings to be encrypted with PB_ENCRYPTION_KEY")
	}
}

// dataFilesContain reports whether the SQLite files (database and WAL) of a server's data dir hold s.
func dataFilesContain(t *testing.T, dir, s string) bool {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "pb_data", "data.db*"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no data files in %s: %v", dir, err)
	}
	for _, m := range matches {
		raw, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), s) {
			return true
		}
	}
	return false
}
