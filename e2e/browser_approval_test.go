package e2e

import (
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// createdAwaitingApproval is what a sign-up says when registration needs approval.
const createdAwaitingApproval = "Your account has been created and is waiting for approval by an administrator. You can sign in once it is approved."

// TestBrowserSignUpWaitingForApproval: with REGISTRATION_APPROVAL, a sign-up on /signup and a
// first sign-in with Pocket-ID each end with one clear sentence, not an error next to a link
// to a sign-in that cannot work yet.
func TestBrowserSignUpWaitingForApproval(t *testing.T) {
	t.Parallel()
	idp, err := newProvider()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.shutdown)
	srv := startServer(t, append(append(idp.env(), adminEnv...), "AUTH_RATE_LIMIT=1000", "OPEN_REGISTRATION=true", "REGISTRATION_APPROVAL=true")...)

	t.Run("/signup ends with the one sentence", func(t *testing.T) {
		email := "approval-signup@example.com"
		tab := newTab(t)
		tab.navigate(srv.URL + "/signup")
		offset := len(srv.Output.String())
		tab.typeInto("#signup-form input[name=email]", email)
		tab.click("#signup-form button[type=submit]")
		code := mailedCode(t, srv, email, offset)
		tab.typeInto("#signup-code-form input[name=code]", code)
		tab.click("#signup-code-form button[type=submit]")
		tab.waitFor("the sentence", `document.querySelector("#signup-waiting")?.textContent === `+jsString(createdAwaitingApproval))
		card := mustEval[string](tab, `document.querySelector(".auth-card").innerText`)
		if got := strings.Join(strings.Fields(card), " "); got != "Create your PhaseFlow account "+createdAwaitingApproval {
			t.Fatalf("expected the heading and the one sentence, got %q", card)
		}
		if n := mustEval[int](tab, `document.querySelectorAll(".auth-card a, .auth-card form").length`); n != 0 {
			t.Fatalf("expected no link or form left, got %d", n)
		}
		if tab.storedToken() != "" {
			t.Fatal("an account waiting for approval got a session")
		}
		if ids := findUsers(t, srv, email); len(ids) != 1 {
			t.Fatalf("expected the account to exist, got %d", len(ids))
		}
	})

	t.Run("a first Pocket-ID sign-in ends with the one sentence on the callback page", func(t *testing.T) {
		email := "approval-oidc@example.com"
		idp.QueueUser(&mockoidc.MockUser{Subject: "sub-approval", Email: email, EmailVerified: true})
		tab := newTab(t)
		tab.navigate(srv.URL + "/login")
		tab.click("#oidc-signin")
		tab.waitFor("the sentence", `document.querySelector("[role=alert]")?.textContent === `+jsString(createdAwaitingApproval))
		if status := tab.text("[role=status]"); status != "" {
			t.Fatalf("expected no second message, got %q", status)
		}
		card := mustEval[string](tab, `document.querySelector(".auth-card").innerText`)
		if got := strings.Join(strings.Fields(card), " "); got != "Sign-in did not work "+createdAwaitingApproval+" Back to sign in" {
			t.Fatalf("expected the heading, the one sentence and the way back, got %q", card)
		}
		if tab.storedToken() != "" {
			t.Fatal("an account waiting for approval got a session")
		}
		if ids := findUsers(t, srv, email); len(ids) != 1 {
			t.Fatalf("expected the account to exist, got %d", len(ids))
		}
	})
}
