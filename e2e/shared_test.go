package e2e

import (
	"os"
	"strings"
	"sync"
	"testing"
)

// Shared fixtures: one Chromium, one OIDC provider and two servers serve every browser test of
// the binary. Each starts on first use and stops in TestMain after the tests; each test keeps
// its own users (distinct emails) and its own browser contexts.

var (
	sharedMu    sync.Mutex
	sharedStops []func()
)

// onStop registers f to run when the shared fixtures stop, in reverse order.
func onStop(f func()) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	sharedStops = append(sharedStops, f)
}

// stopShared stops every shared fixture that was started.
func stopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for i := len(sharedStops) - 1; i >= 0; i-- {
		sharedStops[i]()
	}
	sharedStops = nil
}

// lazy is a value started once, on first use, by the first test that needs it.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (l *lazy[T]) get(t *testing.T, what string, start func() (T, error)) T {
	t.Helper()
	l.once.Do(func() { l.v, l.err = start() })
	if l.err != nil {
		t.Fatalf("failed to start %s: %v", what, l.err)
	}
	return l.v
}

var (
	browserFixture lazy[*Browser]
	idpFixture     lazy[*provider]
	closedFixture  lazy[*Server]
	openFixture    lazy[*Server]
)

// sharedBrowser is the one headless Chromium of the test binary.
func sharedBrowser(t *testing.T) *Browser {
	t.Helper()
	return browserFixture.get(t, "Chromium", func() (*Browser, error) {
		b, err := launchBrowser()
		if err == nil {
			onStop(b.close)
		}
		return b, err
	})
}

// sharedProvider is the OIDC provider both shared servers discovered at start. Only
// TestBrowserOIDC queues users on it or intercepts its /authorize.
func sharedProvider(t *testing.T) *provider {
	t.Helper()
	return idpFixture.get(t, "the OIDC provider", func() (*provider, error) {
		p, err := newProvider()
		if err == nil {
			onStop(p.shutdown)
		}
		return p, err
	})
}

// closedServer is a shared server with closed registration, the test superuser and the OIDC
// provider. The tests sign in many times from 127.0.0.1, so its auth rate limit is high; rate
// limiting has its own server (TestBrowserRateLimitMessage).
func closedServer(t *testing.T) *Server {
	t.Helper()
	idp := sharedProvider(t)
	return sharedServer(t, &closedFixture, "the closed-registration server", append(idp.env(), "AUTH_RATE_LIMIT=1000")...)
}

// openServer is closedServer with open registration.
func openServer(t *testing.T) *Server {
	t.Helper()
	idp := sharedProvider(t)
	return sharedServer(t, &openFixture, "the open-registration server", append(idp.env(), "AUTH_RATE_LIMIT=1000", "OPEN_REGISTRATION=true")...)
}

func sharedServer(t *testing.T, l *lazy[*Server], what string, env ...string) *Server {
	t.Helper()
	srv := l.get(t, what, func() (*Server, error) {
		dir, err := os.MkdirTemp("", "phaseflow-e2e-server-")
		if err != nil {
			return nil, err
		}
		srv, err := launchServer(dir, append(env, adminEnv...)...)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		onStop(func() {
			srv.stop()
			os.RemoveAll(dir)
		})
		return srv, nil
	})
	// On failure, show what the server printed while this test ran.
	offset := len(srv.Output.String())
	t.Cleanup(func() {
		if t.Failed() {
			out := srv.Output.String()
			t.Logf("%s output during the test:\n%s", what, strings.TrimSpace(out[min(offset, len(out)):]))
		}
	})
	return srv
}
