package settings_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"phaseflow/settings"
)

func TestConsoleLinesLookLikePocketBases(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 3, 7, 30, 5, 123e6, time.Local)
	scenarios := []struct {
		name  string
		level slog.Level
		msg   string
		args  []any
		want  string
	}{
		{"a warning with attributes", slog.LevelWarn, "OIDC discovery failed", []any{"issuer", "https://id.example.com", "nextRetry", "15s"},
			"2026/11/03 07:30:05 WARN OIDC discovery failed issuer=https://id.example.com nextRetry=15s\n"},
		{"values with spaces are quoted", slog.LevelError, "OIDC configuration error", []any{"error", `issuer "a" does not match`},
			`2026/11/03 07:30:05 ERROR OIDC configuration error error="issuer \"a\" does not match"` + "\n"},
		{"no attributes", slog.LevelInfo, "Superuser is ready", nil,
			"2026/11/03 07:30:05 INFO Superuser is ready\n"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			r := slog.NewRecord(at, s.level, s.msg, 0)
			r.Add(s.args...)
			if err := settings.NewConsoleHandler(&buf).Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != s.want {
				t.Fatalf("expected %q, got %q", s.want, got)
			}
		})
	}

	t.Run("attributes added with With are kept", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		logger := slog.New(settings.NewConsoleHandler(&buf)).With("issuer", "https://id.example.com")
		logger.Warn("OIDC discovery retry failed", "nextRetry", "30s")
		line := buf.String()
		want := " WARN OIDC discovery retry failed issuer=https://id.example.com nextRetry=30s\n"
		if len(line) != len("2026/11/03 07:30:05")+len(want) || line[len("2026/11/03 07:30:05"):] != want {
			t.Fatalf("expected a time stamp then %q, got %q", want, line)
		}
	})

	t.Run("debug is left out", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		slog.New(settings.NewConsoleHandler(&buf)).Debug("noise")
		if buf.Len() != 0 {
			t.Fatalf("expected no output, got %q", buf.String())
		}
	})
}
