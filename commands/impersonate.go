package commands

import (
	"fmt"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/sessions"
	"phaseflow/users"
)

// NewImpersonateCommand returns `impersonate EMAIL [--duration 1h]`, which opens an impersonation
// session for the user (listed with impersonator cli), prints its non-refreshable token and
// audits it. The duration is capped like the HTTP endpoint's: sessions.MaxImpersonation, and
// never past SESSION_MAX_DAYS.
func NewImpersonateCommand(app core.App, cfg config.Config) *cobra.Command {
	var duration time.Duration
	cmd := &cobra.Command{
		Use:          "impersonate EMAIL",
		Short:        "Print a non-refreshable auth token for a user (support and server-to-server use)",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			lt := sessions.LifetimesFromDays(cfg.SessionDays, cfg.SessionMaxDays)
			limit := min(sessions.MaxImpersonation, lt.Absolute)
			if duration <= 0 || duration > limit {
				return fmt.Errorf("--duration must be between 1s and %s", limit)
			}
			if err := app.RunAllMigrations(); err != nil {
				return fmt.Errorf("failed to apply migrations: %w", err)
			}
			user, err := app.FindAuthRecordByEmail(users.Collection, args[0])
			if err != nil {
				return fmt.Errorf("no user with email %q", args[0])
			}
			now := time.Now()
			s, err := sessions.Create(app, lt, user, sessions.New{
				Method: sessions.MethodImpersonation, Device: sessions.DeviceImpersonation, Impersonator: sessions.ImpersonatorCLI,
				Expires: now.Add(duration),
			}, now)
			if err != nil {
				return fmt.Errorf("failed to open the session: %w", err)
			}
			token, err := users.NewSessionToken(user, users.SessionClaims{SessionID: s.ID, Expires: s.Expires})
			if err != nil {
				return fmt.Errorf("failed to create the token: %w", err)
			}
			ev := audit.Event{
				Method:     audit.MethodImpersonate,
				Outcome:    audit.OutcomeSuccess,
				Reason:     "Token issued by the impersonate command for " + duration.String() + ".",
				UserID:     user.Id,
				Collection: users.Collection,
				Actor:      audit.ActorCLI,
			}
			if err := audit.Write(app, ev); err != nil {
				return fmt.Errorf("failed to audit the impersonation: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", time.Hour, "token lifetime, e.g. 30m, 1h, 24h")
	return cmd
}
