package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"phaseflow/audit"
	"phaseflow/users"
)

// ExitUsage is the exit code of a command that cannot run as given (see UsageError); a command
// that ran and refused (a taken address, a password the rule refuses) exits 1.
const ExitUsage = 2

// UsageError is a command invocation that cannot run as given: wrong arguments, an unknown flag,
// no password on standard input. main prints it with a pointer to --help and exits ExitUsage.
type UsageError struct {
	Err error
	// Command is the command's path, e.g. "users create", for the --help pointer.
	Command string
}

// Error implements error.
func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e UsageError) Unwrap() error { return e.Err }

// Help is how main shows the error: the error and how to get the usage.
func (e UsageError) Help() string {
	return fmt.Sprintf("Error: %v\nRun './app %s --help' for usage.", e.Err, e.Command)
}

// maxPasswordInput bounds what is read from standard input for a password.
const maxPasswordInput = 4 << 10

// NewUsersCommand returns `users create EMAIL [--verified]` (the password from standard input:
// asked twice without echo on a terminal, else the first line; never an argument; audited) and
// `users list` (id, email, verified, approved, created; no secrets). Prompts go to prompt (the
// terminal's stderr), never to standard output.
func NewUsersCommand(app core.App, prompt io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Create or list accounts",
	}

	var verified bool
	create := &cobra.Command{
		Use:   "create EMAIL [--verified]",
		Short: "Create an account; the password is read from standard input",
		Long: "Creates an approved account for EMAIL (stored in lower case) with the password read from standard input: " +
			"on a terminal it is asked twice without echo, otherwise the first line is used, e.g.\n" +
			"  printf '%s\\n' \"$PASSWORD\" | ./app users create ana@example.com --verified\n" +
			"It is never taken from an argument, which other users of the machine could see. The password rule " +
			"(PASSWORD_MIN_LENGTH, at most 71 bytes, not a common password) applies. --verified marks the address as " +
			"verified; without it the first email-code sign-in verifies it and replaces the password. Exit codes: 0 created, " +
			"1 refused (a taken address, a password the rule refuses), 2 bad usage.",
		SilenceUsage: true,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return UsageError{errors.New("give the account's EMAIL"), "users create"}
			case len(args) > 1:
				return UsageError{errors.New("users create takes one argument, EMAIL; the password is read from standard input, never from an argument"), "users create"}
			}
			if _, err := users.NormalizeEmail(args[0]); err != nil {
				return UsageError{fmt.Errorf("EMAIL must be a plain email address, e.g. ana@example.com, got %q", args[0]), "users create"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return fmt.Errorf("failed to apply migrations: %w", err)
			}
			email, _ := users.NormalizeEmail(args[0])
			if existing, err := app.FindAuthRecordByEmail(users.Collection, email); err == nil && existing != nil {
				// Before asking for a password nobody needs.
				return fmt.Errorf("refused: an account with email %s already exists", email)
			}
			password, err := readPassword(cmd.InOrStdin(), prompt)
			if err != nil {
				return err
			}
			user, err := users.Create(app, email, password, verified)
			var refused *users.PasswordRefusedError
			switch {
			case errors.Is(err, users.ErrEmailTaken):
				return fmt.Errorf("refused: an account with email %s already exists", email)
			case errors.As(err, &refused):
				return fmt.Errorf("refused: the password is not accepted: %s", refused.Message)
			case err != nil:
				return fmt.Errorf("failed to create the account: %w", err)
			}
			ev := audit.Event{
				Method: audit.MethodUserCreate, Outcome: audit.OutcomeSuccess, UserID: user.Id,
				Collection: users.Collection, Identity: user.Email(), Actor: audit.ActorCLI,
				Reason: fmt.Sprintf("Account created with ./app users create (verified: %t).", user.Verified()),
			}
			if err := audit.Write(app, ev); err != nil {
				return fmt.Errorf("the account %s was created, but auditing it failed: %w", user.Id, err)
			}
			state := "not verified: the first email-code sign-in verifies it"
			if user.Verified() {
				state = "verified"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s (id %s, %s, approved)\n", user.Email(), user.Id, state)
			return nil
		},
	}
	create.Flags().BoolVar(&verified, "verified", false, "mark the address as verified (you vouch for it)")
	create.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError{err, "users create"} })
	cmd.AddCommand(create)

	list := &cobra.Command{
		Use:          "list",
		Short:        "List every account: id, email, verified, approved, created",
		SilenceUsage: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return UsageError{fmt.Errorf("users list takes no arguments, got %q", args), "users list"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return fmt.Errorf("failed to apply migrations: %w", err)
			}
			recs, err := app.FindRecordsByFilter(users.Collection, "", "created,id", 0, 0)
			if err != nil {
				return fmt.Errorf("failed to list the accounts: %w", err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tEMAIL\tVERIFIED\tAPPROVED\tCREATED")
			for _, r := range recs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Id, r.Email(), yesNo(r.Verified()), yesNo(r.GetBool(users.FieldApproved)),
					r.GetDateTime("created").Time().UTC().Format(time.RFC3339))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d account(s)\n", len(recs))
			return nil
		},
	}
	list.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError{err, "users list"} })
	cmd.AddCommand(list)
	return cmd
}

// readPassword reads the new password from in: on a terminal it asks twice without echo (the
// prompts go to prompt), otherwise it takes the first line. The line ending is not part of it.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		first, err := askHidden(fd, prompt, "Password: ")
		if err != nil {
			return "", fmt.Errorf("failed to read the password: %w", err)
		}
		if first == "" {
			return "", UsageError{errors.New("no password given"), "users create"}
		}
		second, err := askHidden(fd, prompt, "Repeat the password: ")
		if err != nil {
			return "", fmt.Errorf("failed to read the password: %w", err)
		}
		if first != second {
			return "", errors.New("refused: the two passwords differ; nothing was created")
		}
		return first, nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, maxPasswordInput)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("failed to read the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", UsageError{errors.New("no password on standard input: pipe it in (printf '%s\\n' \"$PASSWORD\" | ./app users create EMAIL) or run the command on a terminal"), "users create"}
	}
	return line, nil
}

// askHidden shows label on the terminal fd and reads one line without echo. Echo goes off
// before the label shows (raw mode, as readpassphrase(3) orders it), so nothing typed once the
// prompt is visible is echoed; term.ReadPassword then reads the line.
func askHidden(fd int, prompt io.Writer, label string) (string, error) {
	state, err := term.MakeRaw(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprint(prompt, label)
	raw, err := term.ReadPassword(fd)
	if restoreErr := term.Restore(fd, state); err == nil {
		err = restoreErr
	}
	fmt.Fprintln(prompt)
	return string(raw), err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
