package commands

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"phaseflow/audit"
	"phaseflow/sessions"
	"phaseflow/users"
)

// NewSessionsCommand returns `sessions list EMAIL` and `sessions revoke EMAIL (--id ID | --all)`,
// the operator's view of an account's signed-in devices. A revoke from this command reaches a
// running server within a few seconds (its session cache re-reads the database).
func NewSessionsCommand(app core.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List or end an account's signed-in devices",
	}
	cmd.AddCommand(&cobra.Command{
		Use:          "list EMAIL",
		Short:        "List the account's live sessions",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			user, err := findUser(app, args[0])
			if err != nil {
				return err
			}
			list, err := sessions.List(app, user.Id, time.Now())
			if err != nil {
				return fmt.Errorf("failed to list the sessions: %w", err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tDEVICE\tIP\tMETHOD\tIMPERSONATOR\tCREATED\tLAST SEEN\tENDS")
			for _, s := range list {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Device, dash(s.IP), s.Method, dash(s.Impersonator),
					s.Created.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339), s.Ends().UTC().Format(time.RFC3339))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d live session(s) for %s\n", len(list), user.Email())
			return nil
		},
	})

	var id string
	var all bool
	revoke := &cobra.Command{
		Use:          "revoke EMAIL (--id ID | --all)",
		Short:        "End one session (--id) or every session (--all) of the account",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (id == "") == !all {
				return errors.New("give exactly one of --id ID or --all")
			}
			user, err := findUser(app, args[0])
			if err != nil {
				return err
			}
			n := 1
			if all {
				n, err = sessions.EndAll(app, user.Id, "")
			} else if err = sessions.End(app, user.Id, id); errors.Is(err, sessions.ErrEnded) {
				return fmt.Errorf("%s has no session %q", user.Email(), id)
			}
			if err != nil {
				return fmt.Errorf("failed to end the sessions: %w", err)
			}
			ev := audit.Event{
				Method: audit.MethodSessionEnd, Outcome: audit.OutcomeSuccess, UserID: user.Id,
				Collection: users.Collection, Actor: audit.ActorCLI,
				Reason: fmt.Sprintf("Ended %d session(s) with ./app sessions revoke.", n),
			}
			if err := audit.Write(app, ev); err != nil {
				return fmt.Errorf("failed to audit the revoke: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ended %d session(s) of %s\n", n, user.Email())
			return nil
		},
	}
	revoke.Flags().StringVar(&id, "id", "", "the session to end (see sessions list)")
	revoke.Flags().BoolVar(&all, "all", false, "end every session of the account")
	cmd.AddCommand(revoke)
	return cmd
}

// findUser applies the migrations (custom commands do not) and finds the account of email.
func findUser(app core.App, email string) (*core.Record, error) {
	if err := app.RunAllMigrations(); err != nil {
		return nil, fmt.Errorf("failed to apply migrations: %w", err)
	}
	user, err := app.FindAuthRecordByEmail(users.Collection, email)
	if err != nil {
		return nil, fmt.Errorf("no user with email %q", email)
	}
	return user, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
