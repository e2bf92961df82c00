package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MaxDocumentSize is the largest discovery document Discover reads (1 MiB).
const MaxDocumentSize = 1 << 20

// DefaultTimeout is the time limit Discover applies when the context has no
// deadline or no client is given.
const DefaultTimeout = 10 * time.Second

// ErrIssuerMismatch is reported when the document's issuer is not exactly the
// configured issuer; the error is an *IssuerMismatchError.
var ErrIssuerMismatch = errors.New("issuer mismatch")

// ErrInvalidIssuer is reported when the configured issuer itself is not an
// acceptable URL (not absolute, or http on a non-loopback host).
var ErrInvalidIssuer = errors.New("invalid configured issuer")

// ErrNoDocument is reported when the discovery URL answers 404 or 410: nothing
// is published there, which usually means the configured issuer has a wrong
// path or host.
var ErrNoDocument = errors.New("no discovery document")

// ErrInvalidMetadata wraps every validation problem found in a discovery document.
var ErrInvalidMetadata = errors.New("invalid discovery document")

// ErrRedirect is reported when the discovery URL answers with a redirect,
// which usually means the configured issuer is not the provider's own.
var ErrRedirect = errors.New("discovery document redirected")

// ErrDocumentTooLarge is reported when the document exceeds MaxDocumentSize.
var ErrDocumentTooLarge = errors.New("discovery document too large")

// Metadata is the subset of OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3) PhaseFlow uses.
type Metadata struct {
	Issuer                           string   `json:"issuer"`
	AuthorizationEndpoint            string   `json:"authorization_endpoint"`
	TokenEndpoint                    string   `json:"token_endpoint"`
	UserinfoEndpoint                 string   `json:"userinfo_endpoint"`
	JWKSURI                          string   `json:"jwks_uri"`
	EndSessionEndpoint               string   `json:"end_session_endpoint"`
	TokenEndpointAuthMethods         []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                  []string `json:"scopes_supported"`
	CodeChallengeMethodsSupported    []string `json:"code_challenge_methods_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
}

// DiscoveryURL returns {issuer without trailing slash}/.well-known/openid-configuration.
func DiscoveryURL(issuer string) string {
	return strings.TrimRight(issuer, "/") + "/.well-known/openid-configuration"
}

// Discover fetches and validates the issuer's discovery document.
//
// A nil client means a private client with DefaultTimeout; a context without
// a deadline gets DefaultTimeout. Redirects are refused (ErrRedirect) without
// modifying the given client. All validation problems are reported together
// in one error wrapping ErrInvalidMetadata (and ErrIssuerMismatch when the
// issuers differ).
func Discover(ctx context.Context, client *http.Client, issuer string) (*Metadata, error) {
	if err := checkEndpoint(issuer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIssuer, err)
	}

	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c := noRedirects(client)

	docURL := DiscoveryURL(issuer)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build discovery request: %w", err)
	}
	req.Header.Set("Accept", "application/json")

	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to fetch discovery document: %w", err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("failed to fetch discovery document: %w: %s answered %s with Location %q (configure the issuer exactly as the provider reports it)",
			ErrRedirect, docURL, resp.Status, resp.Header.Get("Location"))
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("failed to fetch discovery document: %w: %s answered %s (check the configured issuer)",
			ErrNoDocument, docURL, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("failed to fetch discovery document: unexpected status %s from %s", resp.Status, docURL)
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read discovery document: %w", err)
	}
	if len(body) > MaxDocumentSize {
		return nil, fmt.Errorf("failed to read discovery document: %w: %s is over %d bytes", ErrDocumentTooLarge, docURL, MaxDocumentSize)
	}

	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("failed to parse discovery document from %s: %w", docURL, err)
	}

	if err := md.validate(issuer); err != nil {
		return nil, fmt.Errorf("%w from %s:\n%w", ErrInvalidMetadata, docURL, err)
	}

	return &md, nil
}

// validate returns every problem with m, one error per line, or nil.
func (m *Metadata) validate(issuer string) error {
	var errs []error

	// OpenID Connect Discovery §4.3: exact match, or tokens could be accepted
	// from another issuer.
	if m.Issuer != issuer {
		errs = append(errs, &IssuerMismatchError{Configured: issuer, Discovered: m.Issuer})
	}

	endpoints := []struct {
		field    string
		value    string
		required bool
	}{
		{"authorization_endpoint", m.AuthorizationEndpoint, true},
		{"token_endpoint", m.TokenEndpoint, true},
		{"jwks_uri", m.JWKSURI, true},
		{"userinfo_endpoint", m.UserinfoEndpoint, false},
		{"end_session_endpoint", m.EndSessionEndpoint, false},
	}
	for _, e := range endpoints {
		if e.value == "" {
			if e.required {
				errs = append(errs, fmt.Errorf("%s is required", e.field))
			}
			continue
		}
		if err := checkEndpoint(e.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.field, err))
		}
	}

	// PocketBase always sends an S256 challenge; absent metadata says nothing
	// either way, so only an explicit list without S256 is refused.
	if m.CodeChallengeMethodsSupported != nil && !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
		errs = append(errs, fmt.Errorf("code_challenge_methods_supported %q lacks S256", m.CodeChallengeMethodsSupported))
	}

	return errors.Join(errs...)
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host.
func checkEndpoint(raw string) error {
	if raw == "" {
		return errors.New("url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid url %q: %w", raw, err)
	}
	if !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("url %q is not absolute", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("url %q uses http on a non-loopback host (https is required)", raw)
	default:
		return fmt.Errorf("url %q has scheme %q (https is required)", raw, u.Scheme)
	}
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// withDefaultTimeout bounds ctx by DefaultTimeout unless it has a deadline already.
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// noRedirects returns a copy of client (a nil one: a private client with DefaultTimeout) that
// follows no redirect, so the caller's client keeps its own policy.
func noRedirects(client *http.Client) http.Client {
	var c http.Client
	if client != nil {
		c = *client
	} else {
		c.Timeout = DefaultTimeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}
