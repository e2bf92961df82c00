package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestIssuerMismatchErrorSaysHowToFixATrailingSlash(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name                 string
		configured, document string
		want                 string
	}{
		{
			name:       "configured with a slash the provider does not have",
			configured: "https://id.example.com/", document: "https://id.example.com",
			want: `issuer mismatch: discovery issuer "https://id.example.com" does not match the configured issuer "https://id.example.com/"; ` +
				`the issuer must be exactly "https://id.example.com": remove the trailing slash`,
		},
		{
			name:       "configured without the slash the provider has",
			configured: "https://tenant.example.com", document: "https://tenant.example.com/",
			want: `issuer mismatch: discovery issuer "https://tenant.example.com/" does not match the configured issuer "https://tenant.example.com"; ` +
				`the issuer must be exactly "https://tenant.example.com/": add the trailing slash`,
		},
		{
			name:       "another host gets no slash advice",
			configured: "https://id.example.com", document: "https://login.example.com",
			want: `issuer mismatch: discovery issuer "https://login.example.com" does not match the configured issuer "https://id.example.com"`,
		},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			err := error(&IssuerMismatchError{Configured: s.configured, Discovered: s.document})
			if got := err.Error(); got != s.want {
				t.Fatalf("expected %q, got %q", s.want, got)
			}
			if !errors.Is(err, ErrIssuerMismatch) || !IsConfigError(err) {
				t.Fatalf("expected ErrIssuerMismatch and a configuration error, got %v", err)
			}
		})
	}
}

func TestDiscoverWithATrailingSlashNamesTheExactIssuer(t *testing.T) {
	t.Parallel()
	// Discovery strips the slash to build its URL, so the document is found; only its issuer
	// tells the two apart.
	issuer := serveDocument(t, nil)
	_, err := Discover(context.Background(), nil, issuer+"/")
	want := fmt.Sprintf("invalid discovery document from %s/.well-known/openid-configuration:\n"+
		`issuer mismatch: discovery issuer %q does not match the configured issuer %q; the issuer must be exactly %q: remove the trailing slash`,
		issuer, issuer, issuer+"/", issuer)
	if err == nil || err.Error() != want {
		t.Fatalf("expected %q, got %v", want, err)
	}
	var mismatch *IssuerMismatchError
	if !errors.As(err, &mismatch) || mismatch.Discovered != issuer || mismatch.Configured != issuer+"/" {
		t.Fatalf("expected an *IssuerMismatchError naming both issuers, got %#v", mismatch)
	}
}

func TestIsConfigErrorTellsConfigurationFromOutage(t *testing.T) {
	t.Parallel()

	// refused is an address nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	status := func(code int) func(string, http.ResponseWriter, *http.Request) {
		return func(_ string, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
	document := func(edit func(doc map[string]any)) func(string, http.ResponseWriter, *http.Request) {
		return func(issuer string, w http.ResponseWriter, _ *http.Request) {
			doc := validDocument(issuer)
			edit(doc)
			json.NewEncoder(w).Encode(doc)
		}
	}

	scenarios := []struct {
		name    string
		handler func(issuer string, w http.ResponseWriter, r *http.Request) // nil: use issuer as is
		issuer  string
		config  bool
	}{
		{name: "an issuer mismatch is configuration", handler: document(func(doc map[string]any) { doc["issuer"] = "https://other.example.com" }), config: true},
		{name: "a document without jwks_uri is configuration", handler: document(func(doc map[string]any) { delete(doc, "jwks_uri") }), config: true},
		{name: "a redirect is configuration", handler: func(_ string, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		}, config: true},
		{name: "404 is configuration", handler: status(http.StatusNotFound), config: true},
		{name: "410 is configuration", handler: status(http.StatusGone), config: true},
		{name: "an http issuer on a public host is configuration", issuer: "http://id.example.com", config: true},
		{name: "503 is an outage", handler: status(http.StatusServiceUnavailable)},
		{name: "502 is an outage", handler: status(http.StatusBadGateway)},
		{name: "500 is an outage", handler: status(http.StatusInternalServerError)},
		{name: "429 is an outage", handler: status(http.StatusTooManyRequests)},
		{name: "a refused connection is an outage", issuer: refused},
		{name: "a body that is not JSON is an outage", handler: func(_ string, w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("<html>maintenance</html>"))
		}},
		{name: "a document over the size limit is an outage", handler: func(_ string, w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(strings.Repeat(" ", MaxDocumentSize+1)))
		}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			issuer := s.issuer
			if s.handler != nil {
				issuer = newServer(t, s.handler)
			}
			_, err := Discover(context.Background(), nil, issuer)
			if err == nil {
				t.Fatal("expected discovery to fail")
			}
			if got := IsConfigError(err); got != s.config {
				t.Fatalf("expected IsConfigError %v, got %v for %v", s.config, got, err)
			}
		})
	}

	t.Run("a timeout is an outage", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		issuer := newServer(t, func(string, http.ResponseWriter, *http.Request) { <-release })
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := Discover(ctx, nil, issuer)
		if err == nil || IsConfigError(err) {
			t.Fatalf("expected an outage error, got %v", err)
		}
	})

	t.Run("nil is not a configuration error", func(t *testing.T) {
		t.Parallel()
		if IsConfigError(nil) {
			t.Fatal("expected false for nil")
		}
	})
}
