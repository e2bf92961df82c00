package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// systemdAnalyze is systemd's offline unit checker (Debian's systemd package; .ci/run installs it).
const systemdAnalyze = "/usr/bin/systemd-analyze"

// maxExposure is the highest `systemd-analyze security` exposure the unit may have (0 is best,
// 10 worst; a plain service scores 9.6). Removing a hardening line pushes it over.
const maxExposure = 2.0

// unitForTest returns deploy/phaseflow.service with the binary, data dir and port moved to this
// test's paths, written as phaseflow.service in a temporary directory.
func unitForTest(t *testing.T, dataDir string, port int) (path, text string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "deploy", "phaseflow.service"))
	if err != nil {
		t.Fatal(err)
	}
	text = strings.NewReplacer(
		"/opt/phaseflow/app", binary,
		"/var/lib/phaseflow", dataDir,
		"127.0.0.1:8090", fmt.Sprintf("127.0.0.1:%d", port),
	).Replace(string(raw))
	path = filepath.Join(t.TempDir(), "phaseflow.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, text
}

// analyze runs systemd-analyze with args and returns its combined output and exit code.
func analyze(t *testing.T, args ...string) (string, int) {
	t.Helper()
	if _, err := os.Stat(systemdAnalyze); err != nil {
		t.Fatalf("the unit tests need %s (apt-get install -y systemd): %v", systemdAnalyze, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, systemdAnalyze, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.String(), exit.ExitCode()
	} else if err != nil {
		t.Fatalf("failed to run systemd-analyze: %v", err)
	}
	return out.String(), 0
}

// unitLine returns the value of the first "Key=" line of a unit.
func unitLine(t *testing.T, unit, key string) string {
	t.Helper()
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	t.Fatalf("the unit has no %s= line", key)
	return ""
}

var exposurePattern = regexp.MustCompile(`Overall exposure level for phaseflow\.service: (\d+\.\d)`)

func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "deploy", "phaseflow.service"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := unitLine(t, string(raw), "ExecStart"), "/opt/phaseflow/app serve --http 127.0.0.1:8090 --dir /var/lib/phaseflow/pb_data"; got != want {
		t.Fatalf("expected ExecStart=%s, got %s", want, got)
	}

	dataDir := t.TempDir()
	port := reservePort(t)
	path, unit := unitForTest(t, dataDir, port)

	t.Run("systemd-analyze verify accepts it without a warning", func(t *testing.T) {
		out, code := analyze(t, "verify", "--man=no", path)
		if code != 0 || strings.TrimSpace(out) != "" {
			t.Fatalf("expected exit 0 and no output, got %d:\n%s", code, out)
		}
	})

	t.Run("systemd-analyze security rates it well hardened", func(t *testing.T) {
		out, code := analyze(t, "security", "--offline=yes", "--no-pager", path)
		m := exposurePattern.FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("expected an exposure level, got %d:\n%s", code, out)
		}
		exposure, _ := strconv.ParseFloat(m[1], 64)
		t.Logf("systemd-analyze security: exposure %.1f", exposure)
		if exposure > maxExposure {
			t.Fatalf("expected an exposure of at most %.1f, got %.1f:\n%s", maxExposure, exposure, out)
		}
	})

	t.Run("its ExecStart serves and its ExecStartPost health check passes", func(t *testing.T) {
		// Run as written (without the sandbox, which needs systemd as PID 1): the flags must be
		// right, and the health check must wait for the server it starts alongside.
		start := strings.Fields(unitLine(t, unit, "ExecStart"))
		post := strings.Fields(unitLine(t, unit, "ExecStartPost"))
		if start[0] != binary || post[0] != binary || post[1] != "healthcheck" {
			t.Fatalf("expected ExecStart and ExecStartPost to run the app and its health check, got %q and %q", start, post)
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		server := exec.CommandContext(ctx, start[0], start[1:]...)
		server.Dir = dataDir // WorkingDirectory=/var/lib/phaseflow
		server.Env = baseEnv(fmt.Sprintf("APP_URL=http://127.0.0.1:%d", port))
		serverOut := &syncBuffer{}
		server.Stdout, server.Stderr = serverOut, serverOut
		if err := server.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = server.Wait(); close(exited) }()
		defer func() {
			_ = server.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cancel()
				<-exited
			}
		}()

		out, code := runIn(t, dataDir, baseEnv(), post[1:]...)
		if code != 0 || out != fmt.Sprintf("healthy: http://127.0.0.1:%d answers and can read its database\n", port) {
			t.Fatalf("expected the ExecStartPost health check to pass, got %d: %s\nserver output:\n%s", code, out, serverOut.String())
		}
		if _, err := os.Stat(filepath.Join(dataDir, "pb_data", "data.db")); err != nil {
			t.Fatalf("expected the database in --dir: %v", err)
		}
	})
}
