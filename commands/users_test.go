package commands_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"phaseflow/audit"
	"phaseflow/commands"
	"phaseflow/internal/apptest"
	"phaseflow/users"
)

// runUsers runs `users ARGS…` against app with stdin as standard input.
func runUsers(t *testing.T, srv *apptest.Server, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, prompt bytes.Buffer
	cmd := commands.NewUsersCommand(srv.App, &prompt)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(args)
	err := cmd.Execute()
	if prompt.Len() > 0 {
		t.Fatalf("expected no prompt for piped input, got %q", prompt.String())
	}
	return out.String(), err
}

func TestUsersCreateCommand(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AuthRateLimit = 100
	// Accounts made by an operator are approved even while sign-ups wait for approval.
	cfg.RegistrationApproval = true
	srv := apptest.Start(t, cfg)

	t.Run("users create reads the first line of a pipe, stores the email in lower case and audits", func(t *testing.T) {
		out, err := runUsers(t, srv, apptest.Password+"\nignored second line\n", "create", "Ana@Example.COM", "--verified")
		if err != nil {
			t.Fatalf("users create: %v", err)
		}
		u, err := srv.App.FindAuthRecordByEmail(users.Collection, "ana@example.com")
		if err != nil {
			t.Fatalf("expected the account stored in lower case: %v", err)
		}
		if want := "created ana@example.com (id " + u.Id + ", verified, approved)\n"; out != want {
			t.Fatalf("expected %q, got %q", want, out)
		}
		if !u.Verified() || !u.GetBool(users.FieldApproved) || u.GetInt(users.FieldCycleLength) != 28 || u.GetString(users.FieldTimezone) != "UTC" {
			t.Fatalf("expected a verified, approved account with profile defaults, got %v", u.PublicExport())
		}
		if !u.ValidatePassword(apptest.Password) {
			t.Fatal("expected the piped line (without its newline) as the password")
		}
		// The password works at the real sign-in endpoint.
		srv.SignIn(t, "ana@example.com", "apptest")
		evs := apptest.AuthEvents(t, srv.App, "method = {:m} && actor = 'cli' && user = {:u}", map[string]any{"m": audit.MethodUserCreate, "u": u.Id})
		if len(evs) != 1 || evs[0].GetString(audit.FieldIdentity) != "ana@example.com" || evs[0].GetString(audit.FieldOutcome) != audit.OutcomeSuccess {
			t.Fatalf("expected one audited creation by cli, got %d", len(evs))
		}
	})

	t.Run("users create without --verified leaves the address to be verified", func(t *testing.T) {
		out, err := runUsers(t, srv, "lantern otter violet meadow\r\n", "create", "bo@example.com")
		if err != nil || !strings.Contains(out, "not verified") {
			t.Fatalf("expected an unverified account, got %q, %v", out, err)
		}
		u, err := srv.App.FindAuthRecordByEmail(users.Collection, "bo@example.com")
		if err != nil || u.Verified() || !u.ValidatePassword("lantern otter violet meadow") {
			t.Fatalf("expected unverified bo with the CRLF-terminated password, got %v", err)
		}
	})

	refusals := []struct {
		name, stdin string
		args        []string
		usage       bool
		message     string
	}{
		{"a taken address in another case", apptest.Password + "\n", []string{"create", "ANA@example.com"}, false,
			"refused: an account with email ana@example.com already exists"},
		{"a short password", "short words\n", []string{"create", "new@example.com"}, false,
			"refused: the password is not accepted: Use at least 15 characters."},
		{"a common password", "password123456789\n", []string{"create", "new@example.com"}, false,
			"refused: the password is not accepted: This password is too common or too easy to guess. Try a few unrelated words."},
		{"a password over 71 bytes", strings.Repeat("horse battery ", 6) + "\n", []string{"create", "new@example.com"}, false,
			"refused: the password is not accepted: Use at most 71 bytes (71 plain letters, fewer with accents or emoji): a longer password would be cut off."},
		{"nothing on standard input", "", []string{"create", "new@example.com"}, true,
			`no password on standard input: pipe it in (printf '%s\n' "$PASSWORD" | ./app users create EMAIL) or run the command on a terminal`},
		{"an empty first line", "\n" + apptest.Password + "\n", []string{"create", "new@example.com"}, true, "no password on standard input"},
		{"the password as an argument", "", []string{"create", "new@example.com", apptest.Password}, true,
			"users create takes one argument, EMAIL; the password is read from standard input, never from an argument"},
		{"no email", apptest.Password + "\n", []string{"create"}, true, "give the account's EMAIL"},
		{"not an email", apptest.Password + "\n", []string{"create", "ana at example.com"}, true,
			`EMAIL must be a plain email address, e.g. ana@example.com, got "ana at example.com"`},
		{"a display name", apptest.Password + "\n", []string{"create", "Ana <new@example.com>"}, true, "EMAIL must be a plain email address"},
		{"an unknown flag", apptest.Password + "\n", []string{"create", "new@example.com", "--admin"}, true, "unknown flag: --admin"},
		{"list with an argument", "", []string{"list", "ana@example.com"}, true, `users list takes no arguments, got ["ana@example.com"]`},
	}
	for _, r := range refusals {
		t.Run("users refuses "+r.name+" and changes nothing", func(t *testing.T) {
			before := apptest.UsersSnapshot(t, srv.App)
			events := len(apptest.AuthEvents(t, srv.App, ""))
			out, err := runUsers(t, srv, r.stdin, r.args...)
			if err == nil {
				t.Fatalf("expected a refusal, got %q", out)
			}
			var usage commands.UsageError
			if errors.As(err, &usage) != r.usage {
				t.Fatalf("expected usage error %v, got %T %v", r.usage, err, err)
			}
			if !strings.Contains(err.Error(), r.message) {
				t.Fatalf("expected %q in the error, got %q", r.message, err.Error())
			}
			if strings.Contains(err.Error(), apptest.Password) || strings.Contains(out, apptest.Password) {
				t.Fatal("the password is echoed in the output")
			}
			if after := apptest.UsersSnapshot(t, srv.App); after != before {
				t.Fatalf("expected no change, got\n%s\nbefore\n%s", after, before)
			}
			if n := len(apptest.AuthEvents(t, srv.App, "")); n != events {
				t.Fatalf("expected no audit row for a refusal, got %d more", n-events)
			}
		})
	}

	t.Run("users list shows id, email, verified, approved and created, and no secrets", func(t *testing.T) {
		out, err := runUsers(t, srv, "", "list")
		if err != nil {
			t.Fatal(err)
		}
		ana, _ := srv.App.FindAuthRecordByEmail(users.Collection, "ana@example.com")
		bo, _ := srv.App.FindAuthRecordByEmail(users.Collection, "bo@example.com")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "ID EMAIL VERIFIED APPROVED CREATED" || lines[3] != "2 account(s)" {
			t.Fatalf("expected a header, two rows and a count, got %q", out)
		}
		for i, want := range [][]string{
			{ana.Id, "ana@example.com", "yes", "yes", ana.GetDateTime("created").Time().UTC().Format("2006-01-02T15:04:05Z")},
			{bo.Id, "bo@example.com", "no", "yes", bo.GetDateTime("created").Time().UTC().Format("2006-01-02T15:04:05Z")},
		} {
			if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("row %d: expected %v, got %v", i+1, want, got)
			}
		}
		for _, secret := range []string{ana.TokenKey(), ana.GetString("password:hash"), "$2a$"} {
			if strings.Contains(out, secret) {
				t.Fatalf("users list shows a secret: %q", out)
			}
		}
	})

	t.Run("a created account signs in at once", func(t *testing.T) {
		res := srv.Do(t, http.MethodPost, "/api/collections/users/auth-with-password",
			map[string]string{"identity": "bo@example.com", "password": "lantern otter violet meadow"}, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("expected bo to sign in, got %d: %s", res.Status, res.Body)
		}
	})
}
