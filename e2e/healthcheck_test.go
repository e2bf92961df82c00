package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	refused := fmt.Sprintf("http://127.0.0.1:%d", port) // nothing listens there

	t.Run("exit 0 while the server answers and reads its database, without touching a data dir", func(t *testing.T) {
		dir := t.TempDir()
		out, code := runIn(t, dir, baseEnv("APP_URL="+srv.URL), "healthcheck")
		if code != 0 || out != "healthy: "+srv.URL+" answers and can read its database\n" {
			t.Fatalf("expected exit 0 and the healthy line, got %d: %q", code, out)
		}
		// PocketBase's CLI would have created ./pb_data before running a command.
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Fatalf("expected the working directory to stay empty, got %v %v", entries, err)
		}
	})

	t.Run("--url overrides APP_URL", func(t *testing.T) {
		out, code := run(t, baseEnv("APP_URL="+refused), "healthcheck", "--url", srv.URL)
		if code != 0 || !strings.HasPrefix(out, "healthy: "+srv.URL+" ") {
			t.Fatalf("expected exit 0, got %d: %q", code, out)
		}
	})

	t.Run("exit 2 on bad usage", func(t *testing.T) {
		for _, args := range [][]string{{"healthcheck", "--url", "127.0.0.1:8090"}, {"healthcheck", "--nope"}, {"healthcheck", "extra"}} {
			out, code := run(t, baseEnv("APP_URL="+srv.URL), args...)
			if code != 2 || !strings.HasPrefix(out, "Error: ") {
				t.Fatalf("%q: expected exit 2 with an error line, got %d: %q", args, code, out)
			}
		}
	})

	t.Run("exit 1 for an unreachable URL", func(t *testing.T) {
		out, code := run(t, baseEnv(), "healthcheck", "--url", refused)
		want := "unhealthy: " + refused + "/api/healthz did not answer: dial tcp " + strings.TrimPrefix(refused, "http://") + ": connect: connection refused\n"
		if code != 1 || out != want {
			t.Fatalf("expected exit 1 and %q, got %d: %q", want, code, out)
		}
	})

	t.Run("exit 1 once the server is down", func(t *testing.T) {
		srv.stop()
		out, code := run(t, baseEnv("APP_URL="+srv.URL), "healthcheck")
		if code != 1 || !strings.HasPrefix(out, "unhealthy: "+srv.URL+"/api/healthz did not answer: ") {
			t.Fatalf("expected exit 1, got %d: %q", code, out)
		}
	})
}
