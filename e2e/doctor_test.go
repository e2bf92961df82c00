package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// startProvider runs an in-process OIDC provider for one test.
func startProvider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// oidcEnv is the OIDC configuration of m with the given secret.
func oidcEnv(m *mockoidc.MockOIDC, secret string) []string {
	return []string{"POCKETBASE_OIDC_ISSUER_URL=" + m.Issuer(), "POCKETBASE_OIDC_CLIENT_ID=" + m.ClientID, "POCKETBASE_OIDC_CLIENT_SECRET=" + secret}
}

func TestOIDCCheckVerifiesTheClientSecret(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	out, code := run(t, baseEnv(oidcEnv(m, m.ClientSecret)...), "oidc", "check")
	if code != 0 || !strings.Contains(out, "client secret:    accepted (the token endpoint refused only a made-up code)") {
		t.Fatalf("expected the right secret accepted, got %d: %s", code, out)
	}
	out, code = run(t, baseEnv(oidcEnv(m, "not-the-secret")...), "oidc", "check")
	if code != 1 || !strings.Contains(out, "client check failed: the identity provider refused the client id or secret (invalid_client)") {
		t.Fatalf("expected exit 1 for a wrong secret, got %d: %s", code, out)
	}
	if strings.Contains(out, "not-the-secret") {
		t.Fatal("oidc check shows the secret")
	}
}

// doctorLines runs ./app doctor in dir and returns its exit code and its report lines.
func doctorLines(t *testing.T, dir string, env []string, args ...string) (int, []string) {
	t.Helper()
	out, code := runIn(t, dir, baseEnv(env...), append([]string{"doctor"}, args...)...)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "PASS  ") || strings.HasPrefix(l, "WARN  ") || strings.HasPrefix(l, "FAIL  ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 13 {
		t.Fatalf("expected 13 report lines, got %d: %s", len(lines), out)
	}
	return code, lines
}

func TestDoctorOnAGoodConfiguration(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	env := append([]string{
		"APP_URL=https://phaseflow.example.com",
		"TRUSTED_PROXY_HEADERS=X-Forwarded-For",
		"SMTP_HOST=smtp.example.com", "SMTP_USERNAME=phaseflow", "SMTP_PASSWORD=smtp-password-value",
		"MAIL_SENDER_ADDRESS=phaseflow@example.com",
		"PB_ENCRYPTION_KEY=0123456789abcdef0123456789abcdef",
		"CRON_SECRET=" + strings.Repeat("c", 40),
		"BACKUP_CRON=17 3 * * *",
		"BACKUP_ENCRYPTION_KEY=" + newBackupKey(t),
		"REPLICA_URL=file://" + t.TempDir(),
	}, oidcEnv(m, m.ClientSecret)...)
	srv := startServer(t, append(env, adminEnv...)...)
	// Superuser MFA is on without an operator's step: with SMTP configured, the server turns it on
	// at start.
	if out, code := runIn(t, srv.Dir, baseEnv(env...), "backup", "create"); code != 0 {
		t.Fatalf("backup create: %d: %s", code, out)
	}
	// The fix doctor gives for the data directory: owner only.
	err := filepath.WalkDir(filepath.Join(srv.Dir, "pb_data"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o700)
		}
		return os.Chmod(path, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}

	code, lines := doctorLines(t, srv.Dir, env)
	for _, l := range lines {
		if !strings.HasPrefix(l, "PASS  ") {
			t.Errorf("expected every item to pass, got %s", l)
		}
	}
	if code != 0 {
		t.Fatalf("expected exit 0, got %d", code)
	}
	for _, want := range []string{
		"PASS  V12.2.1   APP_URL over https: https://phaseflow.example.com uses https.",
		"PASS  V10.4.10  OIDC client credentials: the token endpoint accepts the client (it refused only a made-up code).",
		"PASS  V6.3.3    superuser MFA: superusers need a second factor.",
	} {
		if !contains(lines, want) {
			t.Errorf("expected the line %q, got %v", want, lines)
		}
	}
}

func TestDoctorOnABadConfiguration(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	env := append([]string{"APP_URL=http://phaseflow.example.com"}, oidcEnv(m, "not-the-secret")...)
	code, lines := doctorLines(t, t.TempDir(), env) // never served: PocketBase's defaults
	if code != 1 {
		t.Fatalf("expected exit 1, got %d: %v", code, lines)
	}
	for _, want := range []string{
		"FAIL  V12.2.1   APP_URL over https: http://phaseflow.example.com is http on a network address",
		"FAIL  V10.4.10  OIDC client credentials: the provider refuses POCKETBASE_OIDC_CLIENT_ID or _CLIENT_SECRET (invalid_client)",
		"FAIL  V14       backups: no scheduled backups and no replica",
		"FAIL  V6.3.1    rate limits: off in the stored settings",
		"FAIL  V6.3.3    superuser MFA: superusers, who can read every account, sign in with a password alone.",
		"FAIL  V14.2.4   data directory permissions: health data is open to other users or group-writable",
		"PASS  V10.5.3   OIDC discovery: ",
		"WARN  V13.2.1   CRON_SECRET: unset",
	} {
		if !containsPrefix(lines, want) {
			t.Errorf("expected a line starting %q, got:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "not-the-secret") {
			t.Fatal("doctor shows the client secret")
		}
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func containsPrefix(lines []string, want string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, want) {
			return true
		}
	}
	return false
}
