package commands

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"phaseflow/config"
	"phaseflow/jobs"
)

// NewCronCommand returns `cron run JOB`, which runs a scheduled job once and prints its result
// as JSON (the same as /api/cron/{job}).
func NewCronCommand(app core.App, cfg config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cron",
		Short: "Run PhaseFlow's scheduled jobs by hand",
	}
	cmd.AddCommand(&cobra.Command{
		Use:          "run JOB",
		Short:        "Run a job now: " + strings.Join(jobs.Names(), ", "),
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return fmt.Errorf("failed to apply migrations: %w", err)
			}
			res, err := jobs.Run(app, cfg, args[0], time.Now())
			if err != nil {
				return fmt.Errorf("job %q: %w", args[0], err)
			}
			out, err := json.Marshal(res)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	})
	return cmd
}
