package commands

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"phaseflow/config"
	"phaseflow/replica"
)

// NewReplicateCommand returns `replicate`: continuous replication of data.db to REPLICA_URL with
// Litestream, run as its own process next to ./app serve (see phaseflow/replica for why). It
// runs until SIGINT or SIGTERM, then ships what is left and exits.
func NewReplicateCommand(app core.App, cfg config.Config) *cobra.Command {
	return &cobra.Command{
		Use:          "replicate",
		Short:        "Replicate data.db to REPLICA_URL continuously (run next to serve, until SIGTERM)",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cfg.Replica.Enabled() {
				return fmt.Errorf("replication is not configured: set REPLICA_URL")
			}
			// PocketBase turns SIGINT and SIGTERM into OnTerminate and then exits; the handler holds
			// the exit until the last transactions are shipped.
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			done := make(chan struct{})
			app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
				cancel()
				<-done
				return e.Next()
			})
			// PocketBase silences the commands' ErrOrStderr; the log goes to the process's stderr.
			logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
			err := replica.Run(ctx, app, cfg, logger, func() {
				logger.Info("Replicating data.db", "replica", cfg.Replica.URL, "syncInterval", replica.SyncInterval.String())
			})
			close(done)
			if err != nil {
				return err
			}
			logger.Info("Replication stopped; the replica has every transaction committed before the stop")
			return nil
		},
	}
}

// NewReplicaCommand returns `replica restore [--timestamp T]`: rebuild data.db from REPLICA_URL
// into the data directory (--dir), with the server and replicator stopped.
func NewReplicaCommand(app core.App, cfg config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replica",
		Short: "Restore data.db from the continuous replica (REPLICA_URL)",
	}
	var at string
	restoreCmd := &cobra.Command{
		Use:   "restore",
		Short: "Replace data.db with the replica's newest state (or --timestamp); the server must be stopped",
		Long: "Replace data.db in the data directory (--dir) with the replica's newest state, or its state at " +
			"--timestamp (RFC 3339). The command refuses while ./app serve or ./app replicate runs on the data " +
			"directory, checks the restored database before anything is changed, keeps auxiliary.db and storage/, " +
			"and puts the previous data.db back on any failure.",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ts time.Time
			if at != "" {
				parsed, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return fmt.Errorf("--timestamp must be an RFC 3339 time such as 2026-03-10T14:00:00Z")
				}
				ts = parsed
			}
			logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			if err := replica.Restore(cmd.Context(), app, cfg, ts, logger); err != nil {
				return fmt.Errorf("restore refused or failed: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored data.db from %s into %s; start ./app serve\n", cfg.Replica.URL, app.DataDir())
			return nil
		},
	}
	restoreCmd.Flags().StringVar(&at, "timestamp", "", "restore the state at this time (RFC 3339) instead of the newest")
	cmd.AddCommand(restoreCmd)
	return cmd
}
