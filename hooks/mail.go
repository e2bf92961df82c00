package hooks

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"phaseflow/config"
)

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

func bindMail(app core.App, cfg config.Config) {
	console := &ConsoleMailer{Out: os.Stdout}
	app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error {
		// Only the default no-SMTP client is swapped; SMTP and test mailers are left alone.
		if _, isSendmail := e.Mailer.(*mailer.Sendmail); isSendmail && consoleMail(e.App, cfg) {
			e.Mailer = console
		}
		return e.Next()
	})
}
