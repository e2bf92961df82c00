// Package mail holds PhaseFlow's mails: one Message type rendered as plain text and as HTML,
// sent through PocketBase's mail client (so SMTP, the console mailer of a local run and the test
// mailer all see them), and the wording of the account mails PocketBase itself sends for the
// users collection (verification, password reset, email change, sign-in code, new device).
// Subjects never carry health data or codes: they show on lock screens.
package mail

import (
	"fmt"
	"html"
	netmail "net/mail"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// Message is one of PhaseFlow's mails.
type Message struct {
	To      string
	Subject string
	// Text is the body: paragraphs separated by blank lines.
	Text string
	// Link, when set, is the mail's one action: a button in the HTML part, its URL on a line of
	// its own in the plain part.
	Link *Link
}

// Link is a mail's action.
type Link struct {
	Label string
	URL   string
}

// PlainText is the plain-text part of m.
func (m Message) PlainText() string {
	text := strings.TrimSpace(m.Text)
	if m.Link != nil {
		text += "\n\n" + m.Link.Label + ": " + m.Link.URL
	}
	return text + "\n\n— PhaseFlow\n"
}

// HTMLBody is the inner HTML of m (PocketBase wraps its own mails in its layout; Send wraps
// PhaseFlow's in htmlLayout). Every piece of text is escaped.
func (m Message) HTMLBody() string {
	var b strings.Builder
	for _, p := range strings.Split(strings.TrimSpace(m.Text), "\n\n") {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>"))
		b.WriteString("</p>\n")
	}
	if m.Link != nil {
		u := html.EscapeString(m.Link.URL)
		fmt.Fprintf(&b, "<p><a class=\"btn\" href=\"%s\" target=\"_blank\" rel=\"noopener\">%s</a></p>\n", u, html.EscapeString(m.Link.Label))
		fmt.Fprintf(&b, "<p>Or open this address: %s</p>\n", u)
	}
	b.WriteString("<p>— PhaseFlow</p>\n")
	return b.String()
}

// htmlLayout wraps a body for PhaseFlow's own mails: no remote content, styles inline.
const htmlLayout = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #231a20;">
%s</body></html>
`

// Send delivers m from the app's sender.
func Send(app core.App, m Message) error {
	meta := app.Settings().Meta
	msg := &mailer.Message{
		From:    netmail.Address{Name: meta.SenderName, Address: meta.SenderAddress},
		To:      []netmail.Address{{Address: m.To}},
		Subject: m.Subject,
		Text:    m.PlainText(),
		HTML:    fmt.Sprintf(htmlLayout, m.HTMLBody()),
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
