package routes_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"phaseflow/internal/apptest"
)

var (
	mailLink = regexp.MustCompile(`https?://[^\s"'<>]+`)
	mailHref = regexp.MustCompile(`href="([^"]+)"`)
)

// phaseflowPages are the pages a mail may link to.
var phaseflowPages = map[string]bool{
	"/": true, "/login": true, "/settings": true, "/forgot-password": true,
	"/reset-password": true, "/verify-email": true, "/confirm-email-change": true,
}

// TestEveryMailLinksToAPhaseFlowPage triggers each mail PhaseFlow and PocketBase send for an
// account and checks both parts: a plain and an HTML part, every link a PhaseFlow page under
// APP_URL (never the admin UI), a token link in both parts alike, and a subject without digits.
func TestEveryMailLinksToAPhaseFlowPage(t *testing.T) {
	t.Parallel()
	cfg := manySignIns(t)
	// A local APP_URL: without SMTP, mail (and so email codes and new-device alerts) is on only
	// for a local run.
	cfg.AppURL = "http://127.0.0.1:8090"
	cfg.OpenRegistration = true
	cfg.AccountLockFailures = 3
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) { r.SetVerified(false) })
	apptest.CreateUser(t, srv.App, "bob@example.com")
	token := apptest.Auth(apptest.Token(t, srv.App, ana))

	triggers := []struct {
		name  string
		to    string
		fire  func()
		token bool // the mail carries a one-time link
	}{
		{"verification", "ana@example.com", func() {
			srv.Do(t, "POST", "/api/collections/users/request-verification", map[string]string{"email": "ana@example.com"}, nil)
		}, true},
		{"password reset", "ana@example.com", func() {
			srv.Do(t, "POST", "/api/collections/users/request-password-reset", map[string]string{"email": "ana@example.com"}, nil)
		}, true},
		{"email change", "ana.new@example.com", func() {
			srv.Do(t, "POST", "/api/collections/users/request-email-change", map[string]string{"newEmail": "ana.new@example.com"}, token)
		}, true},
		{"email change to a taken address", "bob@example.com", func() {
			srv.Do(t, "POST", "/api/collections/users/request-email-change", map[string]string{"newEmail": "bob@example.com"}, token)
		}, false},
		{"sign-in code", "bob@example.com", func() {
			srv.Do(t, "POST", "/api/collections/users/request-otp", map[string]string{"email": "bob@example.com"}, nil)
		}, false},
		{"new device", "bob@example.com", func() {
			for i, ua := range []string{"Firefox/1", "Safari/2"} {
				srv.DoFrom(t, fmt.Sprintf("127.0.5.%d", i+1), "POST", "/api/collections/users/auth-with-password",
					map[string]string{"identity": "bob@example.com", "password": apptest.Password}, map[string]string{"User-Agent": ua})
			}
		}, false},
		{"sign-up code", "carol@example.com", func() {
			srv.Do(t, "POST", "/api/signup", map[string]string{"email": "carol@example.com"}, nil)
		}, false},
		{"sign-up with a taken address", "bob@example.com", func() {
			srv.Do(t, "POST", "/api/signup", map[string]string{"email": "bob@example.com"}, nil)
		}, false},
		{"account lock", "bob@example.com", func() {
			for i := range cfg.AccountLockFailures {
				srv.DoFrom(t, fmt.Sprintf("127.0.6.%d", i+1), "POST", "/api/collections/users/auth-with-password",
					map[string]string{"identity": "bob@example.com", "password": "a wrong guess here"}, nil)
			}
		}, false},
	}
	for _, tr := range triggers {
		t.Run(tr.name, func(t *testing.T) {
			before := srv.App.TestMailer.TotalSend()
			tr.fire()
			var m *mailer.Message
			apptest.Eventually(t, 10*time.Second, "the "+tr.name+" mail", func() bool {
				for _, msg := range srv.App.TestMailer.Messages()[before:] {
					if len(msg.To) == 1 && msg.To[0].Address == tr.to {
						m = msg
						return true
					}
				}
				return false
			})
			if m.Text == "" || m.HTML == "" {
				t.Fatalf("expected a plain and an HTML part, got text %q html %q", m.Text, m.HTML)
			}
			if strings.ContainsAny(m.Subject, "0123456789") || !strings.Contains(m.Subject, "PhaseFlow") {
				t.Fatalf("expected a subject naming PhaseFlow without digits, got %q", m.Subject)
			}
			if strings.Contains(m.HTML+m.Text, "/_/") {
				t.Fatal("the mail links to the admin UI")
			}
			textLinks := mailLink.FindAllString(m.Text, -1)
			var htmlLinks []string
			for _, h := range mailHref.FindAllStringSubmatch(m.HTML, -1) {
				htmlLinks = append(htmlLinks, h[1])
			}
			for _, l := range htmlLinks {
				if !strings.Contains(m.Text, strings.ReplaceAll(l, "&amp;", "&")) {
					t.Fatalf("the HTML part links to %q, which the plain part lacks:\n%s", l, m.Text)
				}
			}
			for _, l := range append(append([]string{}, textLinks...), htmlLinks...) {
				u, err := url.Parse(strings.ReplaceAll(l, "&amp;", "&"))
				if err != nil || u.Scheme+"://"+u.Host != cfg.AppURL || !phaseflowPages[u.Path] {
					t.Fatalf("expected a PhaseFlow page under %s, got %q", cfg.AppURL, l)
				}
				if tr.token && u.Path != "/settings" && u.Query().Get("token") == "" {
					t.Fatalf("expected the link to carry the token, got %q", l)
				}
			}
			if tr.token && (len(textLinks) == 0 || !strings.Contains(m.HTML, textLinks[0])) {
				t.Fatalf("expected the same token link in both parts, got text %q", textLinks)
			}
			if strings.Contains(m.Text, "{") || strings.Contains(m.HTML, "{APP_") || strings.Contains(m.HTML, "{TOKEN}") {
				t.Fatalf("a placeholder is left: %q", m.Text)
			}
		})
	}
	if res := srv.Do(t, "GET", "/api/health", nil, nil); res.Status != http.StatusOK {
		t.Fatal("the server stopped answering")
	}
}
