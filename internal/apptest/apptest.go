// Package apptest starts PhaseFlow for tests: a fresh PocketBase test app on a temporary data dir
// with PhaseFlow's migrations, hooks and routes, served by the real router over real HTTP.
package apptest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"phaseflow/account"
	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/hooks"
	_ "phaseflow/migrations"
	"phaseflow/routes"
	"phaseflow/sessions"
	"phaseflow/settings"
	"phaseflow/users"
)

// Password is the password of users made by CreateUser.
const Password = "correct-horse-battery"

func init() {
	// Start-up notices are for an operator's terminal, not test output.
	settings.SetConsole(io.Discard)
}

// Config returns the configuration tests start from: the defaults, as with an empty environment,
// except for the erasure ledger, which is an empty ledger in a temporary dir of the test (the
// default, next to the data dir, would land in the system's temporary dir, which every test app
// shares), as a server start would have created it.
func Config(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.FromEnv(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.ErasureLedger = filepath.Join(t.TempDir(), "erasures")
	if err := account.PrepareLedger(cfg.ErasureLedger, func() (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// NewApp returns a fresh test app with PhaseFlow's hooks and routes registered. Migrations are
// applied by tests.NewTestApp. Without cfg.ErasureLedger the app's erasure ledger is a file in a
// temporary dir of the test (see Config).
func NewApp(t testing.TB, cfg config.Config) *tests.TestApp {
	t.Helper()
	return NewAppFrom(t, cfg, t.TempDir())
}

// NewAppFrom is NewApp on a copy of the data dir dataDir (for example a copy of another test
// app's data dir, standing in for a restored backup); dataDir itself is not changed.
func NewAppFrom(t testing.TB, cfg config.Config, dataDir string) *tests.TestApp {
	t.Helper()
	app, err := tests.NewTestApp(dataDir)
	if err != nil {
		t.Fatalf("failed to create the test app: %v", err)
	}
	if cfg.ErasureLedger == "" {
		cfg.ErasureLedger = filepath.Join(t.TempDir(), "erasures")
	}
	t.Cleanup(app.Cleanup)
	hooks.Register(app, cfg)
	routes.Register(app, cfg)
	return app
}

// Server is PhaseFlow behind a real HTTP listener on 127.0.0.1.
type Server struct {
	App *tests.TestApp
	URL string
	cfg config.Config
}

// Start builds the router once (so rate limits and other state persist across requests) and
// serves it with httptest on 127.0.0.1. Each setup function runs on the app before the router is
// built, e.g. to bind a test's own hook.
func Start(t testing.TB, cfg config.Config, setup ...func(*tests.TestApp)) *Server {
	t.Helper()
	return StartFrom(t, cfg, t.TempDir(), setup...)
}

// StartFrom is Start on a copy of the data dir dataDir (see NewAppFrom). Serving runs the
// start-up work on it, the erasure ledger included.
func StartFrom(t testing.TB, cfg config.Config, dataDir string, setup ...func(*tests.TestApp)) *Server {
	t.Helper()
	app := NewAppFrom(t, cfg, dataDir)
	for _, f := range setup {
		f(app)
	}
	return Serve(t, app, cfg)
}

// Serve builds the router of an app made by NewApp (for example one a test restored data into)
// and serves it as Start does.
func Serve(t testing.TB, app *tests.TestApp, cfg config.Config) *Server {
	t.Helper()
	r, err := apis.NewRouter(app)
	if err != nil {
		t.Fatalf("failed to create the router: %v", err)
	}
	se := &core.ServeEvent{App: app, Router: r}
	var mux http.Handler
	err = app.OnServe().Trigger(se, func(e *core.ServeEvent) error {
		m, err := e.Router.BuildMux()
		mux = m
		return err
	})
	if err != nil {
		t.Fatalf("failed to serve: %v", err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &Server{App: app, URL: srv.URL, cfg: cfg}
}

// Response is a decoded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map; it fails the test when the body is not a JSON object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("expected a JSON object, got %q: %v", r.Body, err)
	}
	return m
}

// Do sends a request with an optional JSON body and headers ("Authorization", "Host" etc.).
func (s *Server) Do(t testing.TB, method, path string, body any, headers map[string]string) Response {
	t.Helper()
	return s.DoFrom(t, "", method, path, body, headers)
}

// DoFrom is Do from the loopback source address ip (e.g. "127.0.0.7"; "" for the default), so
// one test can be many clients: the server sees each address as its own client.
func (s *Server) DoFrom(t testing.TB, ip, method, path string, body any, headers map[string]string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("failed to encode the body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatalf("failed to build the request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	// Go sends the request's Host field, not a Host header.
	if host := headers["Host"]; host != "" {
		req.Host = host
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	if ip != "" {
		dialer := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		client.Transport = &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("failed to read the response: %v", err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// CreateUser saves a verified user with Password and returns it.
func CreateUser(t testing.TB, app core.App, email string, mutate ...func(*core.Record)) *core.Record {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(users.Collection)
	if err != nil {
		t.Fatal(err)
	}
	u := core.NewRecord(col)
	u.SetEmail(email)
	u.SetPassword(Password)
	u.SetVerified(true)
	for _, m := range mutate {
		m(u)
	}
	if err := app.Save(u); err != nil {
		t.Fatalf("failed to create user %s: %v", email, err)
	}
	return u
}

// CreateSuperuser saves a superuser and returns it.
func CreateSuperuser(t testing.TB, app core.App, email string) *core.Record {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		t.Fatal(err)
	}
	su := core.NewRecord(col)
	su.SetEmail(email)
	su.SetPassword(Password)
	if err := app.Save(su); err != nil {
		t.Fatalf("failed to create superuser: %v", err)
	}
	return su
}

// Token returns a fresh auth token for r. For a users account it opens a session first, as a
// sign-in does (without a sign-in time, so it is no proof of presence); a superuser gets
// PocketBase's own token.
func Token(t testing.TB, app core.App, r *core.Record) string {
	t.Helper()
	if r.Collection().Name != users.Collection {
		tok, err := r.NewAuthToken()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok, err := users.NewSessionToken(r, users.SessionClaims{SessionID: Session(t, app, r), Refreshable: true})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Session opens a session for the users account r with the default lifetimes and returns its id.
func Session(t testing.TB, app core.App, r *core.Record) string {
	t.Helper()
	cfg := Config(t)
	s, err := sessions.Create(app, sessions.LifetimesFromDays(cfg.SessionDays, cfg.SessionMaxDays), r,
		sessions.New{Method: "password", UserAgent: "apptest", IP: "127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatalf("failed to open a session: %v", err)
	}
	return s.ID
}

// AuthEvents returns the auth_events rows matching filter (a PocketBase filter, "" for all),
// oldest first.
func AuthEvents(t testing.TB, app core.App, filter string, params ...map[string]any) []*core.Record {
	t.Helper()
	if filter == "" {
		filter = "id != ''"
	}
	var p []dbx.Params
	for _, m := range params {
		p = append(p, m)
	}
	recs, err := app.FindRecordsByFilter(audit.Collection, filter, "created", 0, 0, p...)
	if err != nil {
		t.Fatalf("failed to read auth events: %v", err)
	}
	return recs
}

// UsersSnapshot renders every users row with all fields, hidden ones too (the password hash,
// the token key and the email included), so a test can check that a refused request changed
// nothing.
func UsersSnapshot(t testing.TB, app core.App) string {
	t.Helper()
	recs, err := app.FindAllRecords(users.Collection)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range recs {
		r.Unhide(r.Collection().Fields.FieldNames()...)
		raw, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(raw)
		// PocketBase never marshals these two; a change to either is a change to the account.
		b.WriteString(" password:" + r.GetString("password:hash") + " tokenKey:" + r.TokenKey() + " email:" + r.Email() + "\n")
	}
	return b.String()
}

// SignIn signs email in with Password over HTTP, as a browser with userAgent would, and returns
// the token.
func (s *Server) SignIn(t testing.TB, email, userAgent string) string {
	t.Helper()
	res := s.Do(t, http.MethodPost, "/api/collections/users/auth-with-password",
		map[string]string{"identity": email, "password": Password}, map[string]string{"User-Agent": userAgent})
	if res.Status != http.StatusOK {
		t.Fatalf("sign-in of %s: expected 200, got %d: %s", email, res.Status, res.Body)
	}
	tok, _ := res.JSON(t)["token"].(string)
	if tok == "" {
		t.Fatalf("sign-in of %s: no token in %s", email, res.Body)
	}
	return tok
}

// Auth is the Authorization header of token.
func Auth(token string) map[string]string {
	return map[string]string{"Authorization": token}
}

// Multipart encodes fields (name, value, name, value …) as a multipart/form-data body and returns
// it with its Content-Type header.
func Multipart(t testing.TB, fields ...string) (body string, headers map[string]string) {
	t.Helper()
	var b strings.Builder
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), map[string]string{"Content-Type": w.FormDataContentType()}
}
