// Package settings applies PhaseFlow's configuration to PocketBase at every start: the app
// settings (URL, SMTP, rate limits, trusted proxy headers), the users collection's options
// (token lifetime, registration rule, email codes, MFA), the superuser from the environment, the
// OIDC provider from discovery, and mail delivery on a machine without SMTP.
package settings

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/pocketbase/pocketbase/core"
)

var (
	consoleMu sync.Mutex
	console   = slog.New(newConsoleHandler(os.Stderr))
)

// SetConsole sends start-up notices to w (tests pass io.Discard).
func SetConsole(w io.Writer) {
	consoleMu.Lock()
	defer consoleMu.Unlock()
	console = slog.New(newConsoleHandler(w))
}

// Notice logs a message for the operator. PocketBase's logger writes to the logs database (the
// admin UI) and, only in --dev, to the console; start-up notices such as the redirect URL to
// register or a failed discovery also belong on the terminal that started the binary, so they
// are printed to stderr too, time-stamped like PocketBase's own lines. Never pass a secret.
func Notice(app core.App, level slog.Level, msg string, args ...any) {
	app.Logger().Log(context.Background(), level, msg, args...)
	if app.IsDev() {
		return // PocketBase already prints logs in dev mode
	}
	consoleMu.Lock()
	defer consoleMu.Unlock()
	console.Log(context.Background(), level, msg, args...)
}
