package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"phaseflow/config"
	"phaseflow/routes"
)

// HealthcheckName is the name of the healthcheck subcommand. main runs it before PocketBase is
// set up (RunHealthcheck): PocketBase's CLI opens, and if need be creates, the data dir before
// any command runs, which a health check must never do.
const HealthcheckName = "healthcheck"

// Exit codes of `./app healthcheck`.
const (
	HealthcheckHealthy   = 0         // the server answers and its database is readable
	HealthcheckUnhealthy = 1         // it does not answer, or answers anything else
	HealthcheckUsage     = ExitUsage // bad flags or arguments
)

// Healthcheck limits.
const (
	DefaultHealthcheckTimeout = 5 * time.Second
	maxHealthcheckTimeout     = time.Minute
	maxHealthcheckWait        = 10 * time.Minute
	healthcheckRetryInterval  = 500 * time.Millisecond
	maxHealthBody             = 64 << 10
)

// NewHealthcheckCommand returns `healthcheck [--url URL] [--timeout 5s] [--wait 0s]`: exit 0 when
// the server at URL (default APP_URL) answers GET /api/healthz with 200, which it does only when
// it can read its database; 1 otherwise; 2 on bad usage. It makes HTTP requests only and opens
// no data dir.
func NewHealthcheckCommand(cfg config.Config) *cobra.Command {
	var (
		rawURL  string
		timeout time.Duration
		wait    time.Duration
	)
	cmd := &cobra.Command{
		Use:   HealthcheckName,
		Short: "Exit 0 when the server at --url (default APP_URL) answers and can read its database",
		Long: "Asks GET " + routes.HealthPath + " of the server at --url (default APP_URL), which answers 200 only when it can " +
			"read its database. Exit codes: 0 healthy, 1 unhealthy or unreachable, 2 bad usage. Each attempt is bounded by " +
			"--timeout; --wait keeps trying (every 0.5 s) until the server is healthy or the wait is over, e.g. for a " +
			"systemd ExecStartPost= while the server starts.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return UsageError{fmt.Errorf("healthcheck takes no arguments, got %q", args), HealthcheckName}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := healthcheckURL(rawURL, cfg.AppURL)
			if err != nil {
				return UsageError{err, HealthcheckName}
			}
			if timeout <= 0 || timeout > maxHealthcheckTimeout {
				return UsageError{fmt.Errorf("--timeout must be more than 0 and at most %v", maxHealthcheckTimeout), HealthcheckName}
			}
			if wait < 0 || wait > maxHealthcheckWait {
				return UsageError{fmt.Errorf("--wait must be from 0 to %v", maxHealthcheckWait), HealthcheckName}
			}
			if err := waitHealthy(cmd.Context(), base, timeout, wait); err != nil {
				return fmt.Errorf("unhealthy: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "healthy: %s answers and can read its database\n", base)
			return nil
		},
	}
	cmd.Flags().StringVar(&rawURL, "url", "", "base URL of the server (default APP_URL), e.g. http://127.0.0.1:8090")
	cmd.Flags().DurationVar(&timeout, "timeout", DefaultHealthcheckTimeout, "time limit of each attempt")
	cmd.Flags().DurationVar(&wait, "wait", 0, "keep trying until healthy or this long has passed (0: one attempt)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError{err, HealthcheckName} })
	return cmd
}

// RunHealthcheck runs `./app healthcheck` with args (what follows the subcommand name) and
// returns its exit code. Errors go to stderr, one line; the healthy line goes to stdout.
func RunHealthcheck(cfg config.Config, args []string, stdout, stderr io.Writer) int {
	cmd := NewHealthcheckCommand(cfg)
	if args == nil {
		args = []string{} // cobra would read os.Args instead
	}
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.Execute()
	var usage UsageError
	switch {
	case err == nil:
		return HealthcheckHealthy
	case errors.As(err, &usage):
		fmt.Fprintln(stderr, usage.Help())
		return HealthcheckUsage
	default:
		fmt.Fprintln(stderr, err)
		return HealthcheckUnhealthy
	}
}

// healthcheckURL is --url, or APP_URL when it is empty: an http(s) URL with a host and no
// query, without a trailing slash.
func healthcheckURL(raw, appURL string) (string, error) {
	if raw == "" {
		raw = appURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--url must be an http(s) URL with a host and no query, e.g. http://127.0.0.1:8090, got %q", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// waitHealthy checks base once, or until it is healthy or wait has passed.
func waitHealthy(ctx context.Context, base string, timeout, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := checkHealth(ctx, base, timeout)
		if err == nil || wait == 0 || time.Now().Add(healthcheckRetryInterval).After(deadline) {
			if err != nil && wait > 0 {
				return fmt.Errorf("%w (still, after waiting %v)", err, wait)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(healthcheckRetryInterval):
		}
	}
}

// checkHealth makes one GET of base + routes.HealthPath within timeout. Redirects are not
// followed: a health check must reach the server itself, not wherever it points.
func checkHealth(ctx context.Context, base string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := base + routes.HealthPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("failed to build the request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s did not answer within %v", target, timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s did not answer: %w", target, err)
	}
	defer res.Body.Close()
	var body struct {
		Message string `json:"message"`
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, maxHealthBody))
	_ = json.Unmarshal(raw, &body)
	switch {
	case res.StatusCode == http.StatusOK:
		return nil
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return fmt.Errorf("%s answered %s to %q; point --url at the server itself", target, res.Status, res.Header.Get("Location"))
	case res.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s answered %s; is this a PhaseFlow server?", target, res.Status)
	case body.Message != "":
		return fmt.Errorf("%s answered %s: %s", target, res.Status, body.Message)
	default:
		return fmt.Errorf("%s answered %s", target, res.Status)
	}
}
