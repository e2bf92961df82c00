package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"phaseflow/client"
	"phaseflow/internal/apptest"
)

func TestNew(t *testing.T) {
	t.Parallel()
	refused := []string{"", "127.0.0.1:8090", "ftp://example.com", "https://", "https://example.com/?a=b",
		"https://example.com/#x", "https://user:secret@example.com", "http://[::1"}
	for _, base := range refused {
		t.Run(fmt.Sprintf("base URL %q is refused", base), func(t *testing.T) {
			t.Parallel()
			c, err := client.New(base)
			if err == nil || c != nil {
				t.Fatalf("expected an error, got %v", c)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error shows the URL's password: %v", err)
			}
		})
	}
	t.Run("a nil HTTP client is refused", func(t *testing.T) {
		t.Parallel()
		if _, err := client.New("https://example.com", client.WithHTTPClient(nil)); err == nil {
			t.Fatal("expected an error")
		}
	})
	t.Run("an empty collection is refused", func(t *testing.T) {
		t.Parallel()
		if _, err := client.New("https://example.com", client.WithCollection("")); err == nil {
			t.Fatal("expected an error")
		}
	})
}

// countingTransport counts the requests that go through it.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestDo(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	transport := &countingTransport{}
	// A trailing slash and a custom HTTP client.
	c, err := client.New(srv.URL+"/", client.WithHTTPClient(&http.Client{Transport: transport, Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	if _, err := c.AuthWithPassword(t.Context(), "ana@example.com", apptest.Password); err != nil {
		t.Fatal(err)
	}

	t.Run("a JSON answer is decoded into out, with the token sent", func(t *testing.T) {
		// PocketBase's record API shows a user only their own record.
		var out struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		}
		if err := c.Do(t.Context(), "GET", "/api/collections/users/records/"+user.Id, nil, &out); err != nil {
			t.Fatalf("Do: %v", err)
		}
		if out.ID != user.Id || out.Email != "ana@example.com" {
			t.Fatalf("expected ana's record, got %+v", out)
		}
	})

	t.Run("an unknown path is a 404 *Error with the server's message", func(t *testing.T) {
		err := c.Do(t.Context(), "GET", "/api/nope", nil, nil)
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || apiErr.Message != "The requested resource wasn't found." {
			t.Fatalf("expected 404 \"The requested resource wasn't found.\", got %v", err)
		}
	})

	t.Run("a path without a leading slash is refused before sending", func(t *testing.T) {
		before := transport.n.Load()
		if err := c.Do(t.Context(), "GET", "api/user", nil, nil); err == nil || client.StatusCode(err) != 0 {
			t.Fatalf("expected a local error, got %v", err)
		}
		if transport.n.Load() != before {
			t.Fatal("expected no request")
		}
	})

	t.Run("every request went through the given HTTP client", func(t *testing.T) {
		// sign-in, record, 404
		if got := transport.n.Load(); got != 3 {
			t.Fatalf("expected 3 requests through the transport, got %d", got)
		}
	})
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	c, user := signIn(t, srv, "ana@example.com")

	t.Run("a cancelled context stops the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.User(ctx)
		if !errors.Is(err, context.Canceled) || client.StatusCode(err) != 0 {
			t.Fatalf("expected context.Canceled, got %v", err)
		}
		if !strings.HasPrefix(err.Error(), "failed to send request: ") {
			t.Fatalf("expected the cause wrapped, got %q", err)
		}
	})

	t.Run("an expired deadline stops a sign-in and keeps the old token", func(t *testing.T) {
		token := c.Token()
		ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		defer cancel()
		_, err := c.AuthWithPassword(ctx, "ana@example.com", apptest.Password)
		if !errors.Is(err, context.DeadlineExceeded) || c.Token() != token {
			t.Fatalf("expected context.DeadlineExceeded with the token kept, got %v", err)
		}
	})

	t.Run("a cancelled context stops the automatic refresh too", func(t *testing.T) {
		short := mintToken(t, srv.App, user, 2*time.Minute)
		c.SetToken(short)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.User(ctx)
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "failed to refresh the token: ") || c.Token() != short {
			t.Fatalf("expected the refresh to stop with context.Canceled and keep the token, got %v", err)
		}
	})
}

func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	c, _ := signIn(t, srv, "ana@example.com")
	token := c.Token()
	if token == "" {
		t.Fatal("expected a token")
	}
	if err := c.LogoutAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.SetToken(token) // revoked: the next call fails with the token in hand
	_, err := c.User(t.Context())
	if err == nil {
		t.Fatal("expected an error")
	}
	_, mfaErr := c.RequestOTP(t.Context(), "")
	printed := fmt.Sprintf("%v %+v %#v %s %q %x %d | %v %+v %#v | %v", c, c, c, c, c, c, c, err, err, err, mfaErr) +
		fmt.Sprintf("%v %+v", *c, []any{c}) + c.String()
	for _, part := range strings.Split(token, ".") {
		if strings.Contains(printed, part) {
			t.Fatalf("the printed client or error holds part of the token: %s", printed)
		}
	}
	if !strings.Contains(fmt.Sprint(c), "signedIn: true") {
		t.Fatalf("expected the printed client to say it is signed in, got %s", c)
	}
}
