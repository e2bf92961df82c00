// Package commands adds PhaseFlow's subcommands to PocketBase's CLI.
package commands

import (
	"os"

	"github.com/pocketbase/pocketbase"

	"phaseflow/config"
)

// Register adds every PhaseFlow subcommand to app's root command.
func Register(app *pocketbase.PocketBase, cfg config.Config) {
	app.RootCmd.AddCommand(
		NewImpersonateCommand(app, cfg),
		NewSessionsCommand(app),
		NewUsersCommand(app, os.Stderr),
		NewOIDCCommand(app, cfg),
		NewCronCommand(app, cfg),
		NewHealthcheckCommand(cfg), // listed in --help; main runs it without PocketBase
		NewBackupCommand(app, cfg),
		NewReplicateCommand(app, cfg),
		NewReplicaCommand(app, cfg),
		NewDoctorCommand(app, cfg),
	)
}
