package settings

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
)

// consoleTimeFormat is the time layout of PocketBase's own console lines ("2026/11/03 07:30:05
// Server started at …"): the standard log package's LstdFlags, in local time.
const consoleTimeFormat = "2006/01/02 15:04:05"

// consoleHandler writes one line per record, in the shape of PocketBase's console output:
//
//	2026/11/03 07:30:05 WARN OIDC discovery failed issuer=https://id.example.com nextRetry=15s
//
// The time and level come first, like PocketBase's "Server started" line and its --dev log
// printer; the attributes follow in slog's text format, quoted where needed.
type consoleHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	attrs slog.Handler // formats the attributes only
	buf   *bytes.Buffer
}

// newConsoleHandler returns a handler writing to w at level Info and above.
func newConsoleHandler(w io.Writer) *consoleHandler {
	buf := &bytes.Buffer{}
	return &consoleHandler{mu: &sync.Mutex{}, w: w, buf: buf, attrs: slog.NewTextHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		},
	})}
}

// Enabled reports whether level is Info or above.
func (h *consoleHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

// Handle writes r as one line.
func (h *consoleHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	// The text handler prints only the attributes (the rest is replaced away) and a newline.
	if err := h.attrs.Handle(ctx, r); err != nil {
		return err
	}
	attrs := bytes.TrimSpace(h.buf.Bytes())
	line := make([]byte, 0, 64+len(r.Message)+len(attrs))
	if !r.Time.IsZero() {
		line = r.Time.Local().AppendFormat(line, consoleTimeFormat)
		line = append(line, ' ')
	}
	line = append(line, r.Level.String()...)
	line = append(line, ' ')
	line = append(line, r.Message...)
	if len(attrs) > 0 {
		line = append(line, ' ')
		line = append(line, attrs...)
	}
	line = append(line, '\n')
	_, err := h.w.Write(line)
	return err
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *consoleHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = h.attrs.WithAttrs(attrs)
	return &c
}

// WithGroup returns a handler that puts later attributes in group name.
func (h *consoleHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.attrs = h.attrs.WithGroup(name)
	return &c
}
