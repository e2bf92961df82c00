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
	replies  []int
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
	s := &MailServer{addr: ln.Addr().(*net.TCPAddr)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{server: s}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// ReplyToNext makes the server answer the next messages' DATA with these SMTP codes, one per
// message, in order (451 is a temporary failure, 550 a permanent one); then it accepts again.
func (s *MailServer) ReplyToNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, codes...)
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

// nextReply pops the scripted reply for a message, 0 for none.
func (s *MailServer) nextReply() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replies) == 0 {
		return 0
	}
	code := s.replies[0]
	s.replies = s.replies[1:]
	return code
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
	if code := m.server.nextReply(); code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: "scripted reply"}
	}
	m.server.mu.Lock()
	defer m.server.mu.Unlock()
	m.server.received = append(m.server.received, ReceivedMail{To: append([]string(nil), m.to...), Data: string(data)})
	return nil
}
