package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/oidc"
	"phaseflow/settings"
	"phaseflow/users"
)

// NewOIDCCommand returns `oidc check` (discovery and what PhaseFlow would store) and `oidc unlink
// EMAIL` (drop an account's link to its old identity; audited).
func NewOIDCCommand(app core.App, cfg config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "oidc",
		Short: "Inspect the OIDC (Pocket-ID) identity provider",
	}
	cmd.AddCommand(&cobra.Command{
		Use:          "check",
		Short:        "Run discovery against POCKETBASE_OIDC_ISSUER_URL, check the client id and secret, print what was found",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cfg.OIDC.Enabled() {
				return errors.New("OIDC is not configured: set POCKETBASE_OIDC_ISSUER_URL, POCKETBASE_OIDC_CLIENT_ID and POCKETBASE_OIDC_CLIENT_SECRET")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), oidc.DefaultTimeout)
			defer cancel()
			md, err := oidc.Discover(ctx, nil, cfg.OIDC.IssuerURL)
			if err != nil {
				return fmt.Errorf("discovery failed: %w", err)
			}
			pc := settings.ProviderConfig(cfg.OIDC, md)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "discovery:        %s\n", oidc.DiscoveryURL(cfg.OIDC.IssuerURL))
			fmt.Fprintf(out, "issuer:           %s (matches)\n", md.Issuer)
			fmt.Fprintf(out, "authorization:    %s\n", pc.AuthURL)
			fmt.Fprintf(out, "token:            %s\n", pc.TokenURL)
			fmt.Fprintf(out, "jwks:             %s\n", md.JWKSURI)
			fmt.Fprintf(out, "userinfo:         not used (claims come from the signed id_token)\n")
			fmt.Fprintf(out, "pkce:             S256\n")
			fmt.Fprintf(out, "client id:        %s\n", cfg.OIDC.ClientID)
			fmt.Fprintf(out, "button label:     %s\n", cfg.OIDC.DisplayName)
			fmt.Fprintf(out, "redirect URL:     %s   (register exactly this at the provider)\n", cfg.OAuth2RedirectURL())
			if err := oidc.CheckClient(ctx, nil, md, cfg.OIDC.ClientID, cfg.OIDC.ClientSecret, cfg.OAuth2RedirectURL()); err != nil {
				return fmt.Errorf("client check failed: %w", err)
			}
			fmt.Fprintf(out, "client secret:    accepted (the token endpoint refused only a made-up code)\n")
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:          "unlink EMAIL",
		Short:        "Remove an account's link to its OIDC identity so the next sign-in links by verified email",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return fmt.Errorf("failed to apply migrations: %w", err)
			}
			user, n, err := users.UnlinkOIDC(app, args[0])
			if err != nil {
				return fmt.Errorf("failed to unlink %q: %w", args[0], err)
			}
			ev := audit.Event{
				Method: audit.MethodOIDCUnlink, Outcome: audit.OutcomeSuccess, UserID: user.Id,
				Collection: users.Collection, Actor: audit.ActorCLI,
				Reason: fmt.Sprintf("Unlinked %d OIDC identities with ./app oidc unlink; sessions ended.", n),
			}
			if err := audit.Write(app, ev); err != nil {
				return fmt.Errorf("failed to audit the unlink: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d OIDC link(s) for %s\n", n, args[0])
			return nil
		},
	})
	return cmd
}
