package hooks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// Console receives start-up notices; tests may set it to io.Discard.
var Console io.Writer = os.Stderr

// notice logs a start-up message for the operator. PocketBase's logger writes to the logs
// database (the admin UI) and, only in --dev, to the console; start-up notices such as the
// redirect URL to register or a failed discovery also belong on the terminal that started the
// binary, so they are printed to stderr too. Never pass a secret.
func notice(app core.App, level slog.Level, msg string, args ...any) {
	app.Logger().Log(context.Background(), level, msg, args...)
	if app.IsDev() {
		return // PocketBase already prints logs in dev mode
	}
	var b strings.Builder
	b.WriteString(level.String())
	b.WriteString(" ")
	b.WriteString(msg)
	for i := 0; i+1 < len(args); i += 2 {
		fmt.Fprintf(&b, " %v=%v", args[i], args[i+1])
	}
	fmt.Fprintln(Console, b.String())
}
