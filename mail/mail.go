// Package mail sends PhaseFlow's own messages (the account-lock notice, the sign-up code, …)
// through PocketBase's mail client, so SMTP, the console mailer of a local run and the test
// mailer all see them. Subjects never carry health data: they show on lock screens.
package mail

import (
	"fmt"
	"html"
	netmail "net/mail"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// Message is a plain-text message; its HTML part is the same text, escaped.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Send delivers m from the app's sender.
func Send(app core.App, m Message) error {
	meta := app.Settings().Meta
	paragraphs := strings.Split(strings.TrimSpace(m.Text), "\n\n")
	var b strings.Builder
	for _, p := range paragraphs {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>"))
		b.WriteString("</p>\n")
	}
	msg := &mailer.Message{
		From:    netmail.Address{Name: meta.SenderName, Address: meta.SenderAddress},
		To:      []netmail.Address{{Address: m.To}},
		Subject: m.Subject,
		Text:    m.Text,
		HTML:    b.String(),
	}
	if err := app.NewMailClient().Send(msg); err != nil {
		return fmt.Errorf("failed to send %q: %w", m.Subject, err)
	}
	return nil
}

// SendLater sends m in the background, after the request has been answered, and logs a
// failure: a mail that must not decide the answer (or its timing) goes this way.
func SendLater(app core.App, m Message) {
	go func() {
		if err := Send(app, m); err != nil {
			app.Logger().Error("Failed to send a mail", "subject", m.Subject, "error", err.Error())
		}
	}()
}
