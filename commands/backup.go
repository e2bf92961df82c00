package commands

import (
	"fmt"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"phaseflow/backup"
	"phaseflow/config"
	"phaseflow/settings"
)

// NewBackupCommand returns `backup create|list|restore|keygen`: PocketBase's archives of the data
// directory, stored in pb_data/backups or the BACKUP_S3_* bucket and encrypted with
// BACKUP_ENCRYPTION_KEY, and their checked restore.
func NewBackupCommand(app core.App, cfg config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Create, list and restore backups of the data directory",
	}
	// The server applies BACKUP_S3_* to the stored settings at start; these commands use the
	// environment in their own process too, without saving it.
	useEnvironment := func() { settings.ApplyBackups(app.Settings(), cfg) }

	cmd.AddCommand(&cobra.Command{
		Use:          "create",
		Short:        "Create a backup now (encrypted when BACKUP_ENCRYPTION_KEY is set) and print its name",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			useEnvironment()
			name, err := backup.Create(cmd.Context(), app, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), name)
			return nil
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:          "list",
		Short:        "List the stored backups, newest first",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			useEnvironment()
			list, err := backup.List(cmd.Context(), app)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tSIZE\tCREATED")
			for _, b := range list {
				fmt.Fprintf(w, "%s\t%d\t%s\n", b.Name, b.Size, b.Modified.UTC().Format(time.RFC3339))
			}
			return w.Flush()
		},
	})

	var identityFile string
	restoreCmd := &cobra.Command{
		Use:   "restore FILE|NAME",
		Short: "Replace the data directory with a backup (a file, or a name from backup list); the server must be stopped",
		Long: "Replace the data directory with a backup. FILE is a path; NAME is a backup in pb_data/backups or the " +
			"BACKUP_S3_* bucket. The command refuses while ./app serve or ./app replicate runs on the data directory. " +
			"It decrypts an encrypted archive (with BACKUP_ENCRYPTION_KEY's identity or --identity), opens the zip, " +
			"requires data.db and runs SQLite's integrity check on it before anything is changed, keeps the previous " +
			"data aside until the restored data opens and is migrated, and puts it back on any failure.",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			useEnvironment()
			var ids []age.Identity
			if identityFile != "" {
				read, err := backup.ReadIdentities(identityFile)
				if err != nil {
					return err
				}
				ids = read
			} else if keys, err := backup.ParseKey(cfg.Backup.EncryptionKey); err != nil {
				return err
			} else if keys.Identity != nil {
				ids = []age.Identity{keys.Identity}
			}
			if err := backup.Restore(cmd.Context(), app, cfg, args[0], ids); err != nil {
				return fmt.Errorf("restore refused or failed: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s into %s; start ./app serve\n", args[0], app.DataDir())
			return nil
		},
	}
	restoreCmd.Flags().StringVar(&identityFile, "identity", "", "age identity file that decrypts the archive (default: BACKUP_ENCRYPTION_KEY)")
	cmd.AddCommand(restoreCmd)

	cmd.AddCommand(&cobra.Command{
		Use:          "keygen",
		Short:        "Print a new age identity for BACKUP_ENCRYPTION_KEY (post-quantum hybrid) and its recipient",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			identity, recipient, err := backup.NewIdentity()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "# created: %s\n", time.Now().UTC().Format(time.RFC3339))
			fmt.Fprintf(out, "# public key: %s\n", recipient)
			fmt.Fprintln(out, identity)
			return nil
		},
	})
	return cmd
}
