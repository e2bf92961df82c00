// Command app is the PhaseFlow server: PocketBase with PhaseFlow's migrations, hooks, routes and
// commands, configured from the environment (and an optional .env file).
package main

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/pocketbase/pocketbase"

	"phaseflow/commands"
	"phaseflow/config"
	"phaseflow/hooks"
	_ "phaseflow/migrations"
	"phaseflow/routes"
)

func main() {
	lookup, err := config.WithDotenv(".env", os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg, err := config.FromEnv(lookup)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Invalid configuration:\n%s\n", err)
		os.Exit(2)
	}
	// The health check only makes HTTP requests: it must not open (or create) a data dir, which
	// PocketBase's CLI does before any command runs.
	if len(os.Args) > 1 && os.Args[1] == commands.HealthcheckName {
		os.Exit(commands.RunHealthcheck(cfg, os.Args[2:], os.Stdout, os.Stderr))
	}
	// PocketBase reads the settings encryption key from the environment by name; a key that came
	// from .env must be exported for it.
	if cfg.EncryptionKey != "" {
		os.Setenv(config.EncryptionKeyEnvVariable, cfg.EncryptionKey)
	}

	app := pocketbase.NewWithConfig(pocketbase.Config{
		DefaultDataDir:       "pb_data",
		DefaultEncryptionEnv: config.EncryptionKeyEnvVariable,
	})
	hooks.Register(app, cfg)
	routes.Register(app, cfg)
	commands.Register(app, cfg)

	if err := app.Start(); err != nil {
		var usage commands.UsageError
		if errors.As(err, &usage) {
			fmt.Fprintln(os.Stderr, usage.Help())
			os.Exit(commands.ExitUsage)
		}
		log.Fatal(err)
	}
}
