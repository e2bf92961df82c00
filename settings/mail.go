package settings

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"phaseflow/config"
)

// MailAvailable reports whether mail can be delivered: SMTP is configured (from the environment or
// the admin UI), or the app runs locally and mail is printed to the console instead.
func MailAvailable(app core.App, cfg config.Config) bool {
	return app.Settings().SMTP.Enabled || consoleMail(app, cfg)
}

// consoleMail reports whether mail goes to the console: no SMTP, and a local (development) run.
func consoleMail(app core.App, cfg config.Config) bool {
	return !app.Settings().SMTP.Enabled && (app.IsDev() || cfg.IsLocal())
}

// ConsoleMailer prints mail to a terminal instead of sending it. PhaseFlow uses it only when SMTP
// is not configured and the app runs locally, so `make run` can try email codes. It writes to the
// process output, never to PocketBase's persistent logs.
type ConsoleMailer struct {
	mu  sync.Mutex
	Out io.Writer
}

// Send implements mailer.Mailer.
func (m *ConsoleMailer) Send(msg *mailer.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	to := make([]string, len(msg.To))
	for i, a := range msg.To {
		to[i] = a.String()
	}
	body := msg.Text
	if body == "" {
		body = msg.HTML
	}
	_, err := fmt.Fprintf(m.Out, "\n===== SMTP not configured: mail printed instead of sent =====\nTo: %s\nSubject: %s\n\n%s\n==============================================================\n",
		strings.Join(to, ", "), msg.Subject, body)
	return err
}

// UseConsoleMailer returns an OnMailerSend handler that swaps PocketBase's default no-SMTP client
// (sendmail) for m on a local run; SMTP and test mailers are left alone.
func UseConsoleMailer(cfg config.Config, m *ConsoleMailer) func(*core.MailerEvent) error {
	return func(e *core.MailerEvent) error {
		if _, isSendmail := e.Mailer.(*mailer.Sendmail); isSendmail && consoleMail(e.App, cfg) {
			e.Mailer = m
		}
		return e.Next()
	}
}
