package oidc

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ErrInvalidClient is reported by CheckClient when the provider refuses the client id or secret.
var ErrInvalidClient = errors.New("the identity provider refused the client id or secret (invalid_client)")

// maxTokenAnswer bounds how much of the token endpoint's answer CheckClient reads.
const maxTokenAnswer = 64 << 10

// CheckClient reports whether the provider of md accepts clientID and secret, without a user
// and without changing anything there: it sends the token endpoint an authorization-code request
// with a made-up code (and a made-up PKCE verifier). A provider authenticates the client before it
// looks at the code, so a good client gets invalid_grant (nil here) and a bad one
// invalid_client (ErrInvalidClient); any other answer is an error that names it.
//
// The credentials go in the form body (client_secret_post) when the provider lists that method,
// else in the Authorization header (client_secret_basic, the default of OpenID Connect Discovery
// §3). Discovery alone cannot tell a wrong secret: it fails only at the first sign-in. A nil
// client means a private one with DefaultTimeout; redirects are refused.
func CheckClient(ctx context.Context, client *http.Client, md *Metadata, clientID, secret, redirectURL string) error {
	if err := checkEndpoint(md.TokenEndpoint); err != nil {
		return fmt.Errorf("invalid token endpoint: %w", err)
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c := noRedirects(client)

	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"phaseflow-client-check-" + rand.Text()},
		"redirect_uri":  {redirectURL},
		"code_verifier": {rand.Text() + rand.Text()}, // 52 characters, as RFC 7636 allows (43-128)
	}
	post := slices.Contains(md.TokenEndpointAuthMethods, "client_secret_post")
	if post {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("failed to build the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !post {
		// RFC 6749 §2.3.1: both are form-encoded before they go into the header.
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}

	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("failed to reach the token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer))
	if err != nil {
		return fmt.Errorf("failed to read the token endpoint's answer: %w", err)
	}
	var answer struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &answer) // a body that is not JSON leaves Error empty

	switch {
	case answer.Error == "invalid_grant":
		return nil
	case answer.Error == "invalid_client", answer.Error == "" && resp.StatusCode == http.StatusUnauthorized:
		return ErrInvalidClient
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return fmt.Errorf("the token endpoint accepted a made-up authorization code (%s): it does not check codes", resp.Status)
	case answer.Error != "":
		return fmt.Errorf("unexpected answer from the token endpoint: %s %q", resp.Status, answer.Error)
	default:
		return fmt.Errorf("unexpected answer from the token endpoint: %s", resp.Status)
	}
}
