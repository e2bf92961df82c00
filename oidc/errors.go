package oidc

import (
	"errors"
	"fmt"
	"strings"
)

// IssuerMismatchError is the problem found when the discovery document's issuer
// is not exactly the configured one. It matches ErrIssuerMismatch with errors.Is.
type IssuerMismatchError struct {
	// Configured is the issuer the document was fetched for.
	Configured string
	// Discovered is the issuer the document names.
	Discovered string
}

// Error names both issuers and, when they differ only by a trailing slash,
// says which way to fix the configured one: a real Pocket-ID's issuer has no
// trailing slash, but discovery works either way, so the slash is the usual
// mistake.
func (e *IssuerMismatchError) Error() string {
	msg := fmt.Sprintf("%s: discovery issuer %q does not match the configured issuer %q",
		ErrIssuerMismatch, e.Discovered, e.Configured)
	switch {
	case e.Discovered == strings.TrimSuffix(e.Configured, "/"):
		msg += fmt.Sprintf("; the issuer must be exactly %q: remove the trailing slash", e.Discovered)
	case e.Configured == strings.TrimSuffix(e.Discovered, "/"):
		msg += fmt.Sprintf("; the issuer must be exactly %q: add the trailing slash", e.Discovered)
	}
	return msg
}

// Is reports whether target is ErrIssuerMismatch.
func (e *IssuerMismatchError) Is(target error) bool { return target == ErrIssuerMismatch }

// IsConfigError reports whether an error from Discover shows that the
// configuration is wrong rather than that the provider is unavailable: the
// provider answered, and its answer (or the configured issuer itself) cannot
// work however often discovery is retried. These are an invalid configured
// issuer, an issuer mismatch, an invalid document, a redirect and a 404 or 410
// at the discovery URL. Everything else (network errors, timeouts, 5xx and
// other statuses, unreadable or unparsable bodies) may be an outage and is
// worth retrying: a proxy in front of the provider can answer anything while
// the provider restarts.
func IsConfigError(err error) bool {
	for _, target := range []error{ErrInvalidIssuer, ErrIssuerMismatch, ErrInvalidMetadata, ErrRedirect, ErrNoDocument} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
