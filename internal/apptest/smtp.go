package apptest

import (
	"io"
	"log"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// MailServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that keeps what it accepts
// and can answer the next messages with a scripted reply, for tests of a mail server's failures.
type MailServer struct {
	addr *net.TCPAddr

	mu       sync.Mutex
	received []ReceivedMail
	replies  map[string][]int
}

// ReceivedMail is one message the MailServer accepted.
type ReceivedMail struct {
	To   []string
	Data string
}

// StartMailServer starts a MailServer for the rest of the test.
func StartMailServer(t testing.TB) *MailServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &MailServer{addr: ln.Addr().(*net.TCPAddr), replies: map[string][]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{server: s}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// ReplyToNext makes the server answer the next messages to address at DATA with these SMTP
// codes, one per message, in order; then it accepts again. Each reply carries the enhanced status
// code (RFC 3463) a real server would send with it (enhancedCodes).
func (s *MailServer) ReplyToNext(to string, codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[to] = append(s.replies[to], codes...)
}

// enhancedCodes are the enhanced status codes sent with the scripted replies.
var enhancedCodes = map[int]smtp.EnhancedCode{
	421: {4, 3, 2}, // service not available
	450: {4, 2, 1}, // mailbox busy
	451: {4, 3, 0}, // local error in processing
	535: {5, 7, 8}, // authentication credentials invalid
	550: {5, 1, 1}, // no such mailbox
	554: {5, 7, 1}, // delivery not authorized (policy, relay)
}

// Received returns the messages accepted so far.
func (s *MailServer) Received() []ReceivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceivedMail(nil), s.received...)
}

// RouteMail sends every mail of app through s by PocketBase's own SMTP client, instead of the
// test mailer.
func (s *MailServer) RouteMail(app *tests.TestApp) {
	app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{
		Priority: 1000, // after the test app's handler, which installs the test mailer
		Func: func(e *core.MailerEvent) error {
			e.Mailer = &mailer.SMTPClient{Host: s.addr.IP.String(), Port: s.addr.Port}
			return e.Next()
		},
	})
}

// nextReply pops the scripted reply for a message to one of to, 0 for none.
func (s *MailServer) nextReply(to []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, addr := range to {
		if codes := s.replies[addr]; len(codes) > 0 {
			s.replies[addr] = codes[1:]
			return codes[0]
		}
	}
	return 0
}

type mailSession struct {
	server *MailServer
	to     []string
}

func (m *mailSession) Reset()                                    { m.to = nil }
func (m *mailSession) Logout() error                             { return nil }
func (m *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (m *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { m.to = append(m.to, to); return nil }

func (m *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if code := m.server.nextReply(m.to); code != 0 {
		enhanced, ok := enhancedCodes[code]
		if !ok {
			enhanced = smtp.NoEnhancedCode
		}
		return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: "scripted reply"}
	}
	m.server.mu.Lock()
	defer m.server.mu.Unlock()
	m.server.received = append(m.server.received, ReceivedMail{To: append([]string(nil), m.to...), Data: string(data)})
	return nil
}
