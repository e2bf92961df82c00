// Package throttle limits how often sign-in can be tried: one budget per client address for
// every sign-in attempt whatever the method (password, email code, OAuth2 code exchange, the
// second step) and another for requests that mail a code or a link; and a lock per account
// (Authelia's "regulation", Keycloak's brute-force detection) after repeated failures from any
// address.
package throttle

import (
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Window is the length of a client's budget.
const Window = time.Minute

// Budget names.
const (
	// SignIn is every attempt to prove who one is.
	SignIn = "signin"
	// Codes is every request that mails a code or a link.
	Codes = "codes"
)

// budgets is a set of fixed-window counters per budget and client.
type budgets struct {
	mu sync.Mutex
	m  map[string]*window
}

type window struct {
	start time.Time
	used  int
}

// budgetsKey is the app store key of the counters: one set per app.
const budgetsKey = "phaseflow.throttle.budgets"

// maxClients bounds the counters kept; past it, expired windows are dropped first.
const maxClients = 100_000

func budgetsOf(app core.App) *budgets {
	return app.Store().GetOrSet(budgetsKey, func() any { return &budgets{m: map[string]*window{}} }).(*budgets)
}

// Take spends one attempt of the budget of client at now. It reports whether the attempt is
// allowed and, when it is not, how long until the budget refills.
func Take(app core.App, budget, client string, limit int, now time.Time) (bool, time.Duration) {
	b := budgetsOf(app)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) >= maxClients {
		for k, w := range b.m {
			if now.Sub(w.start) >= Window {
				delete(b.m, k)
			}
		}
		if len(b.m) >= maxClients {
			b.m = map[string]*window{} // a flood of addresses: start over rather than grow
		}
	}
	key := budget + "|" + client
	w := b.m[key]
	if w == nil || now.Sub(w.start) >= Window || now.Before(w.start) {
		w = &window{start: now}
		b.m[key] = w
	}
	if w.used >= limit {
		return false, w.start.Add(Window).Sub(now)
	}
	w.used++
	return true, 0
}

// signInActions and codeActions are PocketBase's auth-collection endpoints per budget.
var (
	signInActions = map[string]bool{
		"auth-with-password": true, "auth-with-otp": true, "auth-with-oauth2": true,
		// It checks the account's password: without a budget and a lock it would be a password
		// oracle for anyone who can start an email change (a stolen session).
		"confirm-email-change": true,
	}
	codeActions = map[string]bool{
		"request-otp": true, "request-password-reset": true, "request-verification": true, "request-email-change": true,
	}
)

// phaseflowSignIn and phaseflowCodes are PhaseFlow's own endpoints that check a secret a person
// proves (a password, an emailed code) or that mail a code.
var (
	phaseflowSignIn = map[string]bool{
		"POST /api/user/password": true, "DELETE /api/user": true, "POST /api/signup/verify": true,
	}
	phaseflowCodes = map[string]bool{"POST /api/signup": true}
)

// BudgetOf names the budget a request draws from, or "" for none.
func BudgetOf(method, path string) string {
	if phaseflowSignIn[method+" "+path] {
		return SignIn
	}
	if phaseflowCodes[method+" "+path] {
		return Codes
	}
	if method != "POST" {
		return ""
	}
	rest, ok := strings.CutPrefix(path, "/api/collections/")
	if !ok {
		return ""
	}
	_, action, ok := strings.Cut(rest, "/")
	switch {
	case !ok:
		return ""
	case signInActions[action]:
		return SignIn
	case codeActions[action]:
		return Codes
	}
	return ""
}
