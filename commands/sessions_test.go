package commands_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"phaseflow/commands"
	"phaseflow/internal/apptest"
	"phaseflow/users"
)

func TestSessionsCommand(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AuthRateLimit = 100
	srv := apptest.Start(t, cfg)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	laptop := srv.SignIn(t, "ana@example.com", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	phone := srv.SignIn(t, "ana@example.com", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")

	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := commands.NewSessionsCommand(srv.App)
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.Execute()
		return out.String(), err
	}

	out, err := run("list", "ana@example.com")
	if err != nil || !strings.Contains(out, users.SessionID(laptop)) || !strings.Contains(out, "Firefox on Linux") ||
		!strings.Contains(out, "Safari on iOS") || !strings.Contains(out, "2 live session(s)") {
		t.Fatalf("expected both sessions listed, got %q, %v", out, err)
	}
	for _, args := range [][]string{
		{"revoke", "ana@example.com"},
		{"revoke", "ana@example.com", "--all", "--id", "x"},
		{"revoke", "nobody@example.com", "--all"},
		{"revoke", "ana@example.com", "--id", "nosuchsession12"},
	} {
		if out, err := run(args...); err == nil {
			t.Fatalf("expected %v to fail, got %q", args, out)
		}
	}
	if out, err := run("revoke", "ana@example.com", "--id", users.SessionID(phone)); err != nil || !strings.Contains(out, "ended 1 session(s)") {
		t.Fatalf("expected one session ended, got %q, %v", out, err)
	}
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(phone)); res.Status != http.StatusUnauthorized {
		t.Fatalf("expected the revoked phone refused, got %d", res.Status)
	}
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(laptop)); res.Status != http.StatusOK {
		t.Fatalf("expected the laptop kept, got %d", res.Status)
	}
	if out, err := run("revoke", "ana@example.com", "--all"); err != nil || !strings.Contains(out, "ended 1 session(s)") {
		t.Fatalf("expected the last session ended, got %q, %v", out, err)
	}
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(laptop)); res.Status != http.StatusUnauthorized {
		t.Fatalf("expected the laptop refused, got %d", res.Status)
	}
	if evs := apptest.AuthEvents(t, srv.App, "method = 'session_end' && actor = 'cli'"); len(evs) != 2 {
		t.Fatalf("expected both revokes audited, got %d", len(evs))
	}
}
