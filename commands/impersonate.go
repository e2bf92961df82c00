package commands

import (
	"fmt"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"phaseflow/audit"
	"phaseflow/users"
)

// maxImpersonation caps how long a support token may live.
const maxImpersonation = 30 * 24 * time.Hour

// NewImpersonateCommand returns `impersonate EMAIL [--duration 1h]`, which prints a
// non-refreshable auth token for the user and audits it.
func NewImpersonateCommand(app core.App) *cobra.Command {
	var duration time.Duration
	cmd := &cobra.Command{
		Use:          "impersonate EMAIL",
		Short:        "Print a non-refreshable auth token for a user (support and server-to-server use)",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if duration <= 0 || duration > maxImpersonation {
				return fmt.Errorf("--duration must be between 1s and %s", maxImpersonation)
			}
			if err := app.RunAllMigrations(); err != nil {
				return fmt.Errorf("failed to apply migrations: %w", err)
			}
			user, err := app.FindAuthRecordByEmail(users.Collection, args[0])
			if err != nil {
				return fmt.Errorf("no user with email %q", args[0])
			}
			token, err := user.NewStaticAuthToken(duration)
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
