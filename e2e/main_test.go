// Package e2e tests the real ./app binary: built once, started on 127.0.0.1 with a fresh data dir,
// and driven over HTTP (and, in the browser tests, by headless Chromium).
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the path of the ./app built for this test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "phaseflow-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "failed to build ./app:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// baseEnv is a clean environment for the binary: PATH and HOME only, so the developer's own
// variables (and any .env) do not leak in.
func baseEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, extra...)
}

// run executes the binary in a fresh working directory and returns its combined output and exit code.
func run(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("failed to run %v: %v", args, err)
	}
	return out.String(), code
}

// Server is a running ./app serve.
type Server struct {
	URL     string
	Dir     string
	Output  *syncBuffer
	process *exec.Cmd
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs `./app serve` on a free loopback port with a fresh data dir and waits until
// /api/health answers. APP_URL is set to the server's own address unless env sets it.
func startServer(t *testing.T, env ...string) *Server {
	t.Helper()
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	hasAppURL := false
	for _, kv := range env {
		hasAppURL = hasAppURL || strings.HasPrefix(kv, "APP_URL=")
	}
	if !hasAppURL {
		env = append(env, "APP_URL="+url)
	}
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve", "--http", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir = dir
	cmd.Env = baseEnv(env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &Server{URL: url, Dir: dir, Output: out, process: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(url + "/api/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become healthy: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
