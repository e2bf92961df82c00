package commands_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/commands"
	"phaseflow/internal/apptest"
	"phaseflow/sessions"
	"phaseflow/users"
)

func TestImpersonateCommand(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	bob := apptest.CreateUser(t, srv.App, "bob@example.com")

	t.Run("the impersonate command prints a working static token", func(t *testing.T) {
		var out bytes.Buffer
		cmd := commands.NewImpersonateCommand(srv.App, apptest.Config(t))
		cmd.SetOut(&out)
		cmd.SetArgs([]string{"bob@example.com", "--duration", "2h"})
		if err := cmd.Execute(); err != nil {
			t.Fatalf("impersonate: %v", err)
		}
		tok := strings.TrimSpace(out.String())
		found, err := srv.App.FindAuthRecordByToken(tok, core.TokenTypeAuth)
		if err != nil || found.Id != bob.Id {
			t.Fatalf("expected a valid token for bob, got %v", err)
		}
		claims := apptest.Claims(t, tok)
		if claims[core.TokenClaimRefreshable] != false {
			t.Fatal("expected a non-refreshable token")
		}
		if exp := apptest.Expiry(t, tok); exp.Before(time.Now().Add(119*time.Minute)) || exp.After(time.Now().Add(121*time.Minute)) {
			t.Fatalf("expected a 2h token, got exp %v", exp)
		}
		if evs := apptest.AuthEvents(t, srv.App, "method = 'impersonate' && actor = 'cli'"); len(evs) != 1 {
			t.Fatalf("expected the command to be audited, got %d", len(evs))
		}
		s, err := sessions.Find(srv.App, users.SessionID(tok))
		if err != nil || s.Method != sessions.MethodImpersonation || s.Impersonator != sessions.ImpersonatorCLI || s.UserID != bob.Id {
			t.Fatalf("expected an impersonation session by cli, got %+v (%v)", s, err)
		}
	})

	t.Run("the impersonate command refuses an unknown email and a bad duration", func(t *testing.T) {
		for _, args := range [][]string{{"nobody@example.com"}, {"bob@example.com", "--duration", "0s"}, {"bob@example.com", "--duration", "9000h"}, {"bob@example.com", "--duration", "721h"}} {
			cmd := commands.NewImpersonateCommand(srv.App, apptest.Config(t))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SetArgs(args)
			if err := cmd.Execute(); err == nil {
				t.Fatalf("expected an error for %v", args)
			}
		}
	})
}
