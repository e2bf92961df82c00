// Package e2e tests the real ./app binary: built once, started on 127.0.0.1 with a fresh data dir,
// and driven over HTTP through the Go client (phaseflow/client) and, in the browser tests, by
// headless Chromium.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"phaseflow/client"
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
	// The browser and the servers shared by several tests outlive each test.
	stopShared()
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
	return runIn(t, t.TempDir(), env, args...)
}

// runIn runs the binary in dir (for example a server's working dir, to share its pb_data).
func runIn(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	return runInWithInput(t, dir, env, "", args...)
}

// runInWithInput is runIn with stdin as the binary's standard input (a pipe).
func runInWithInput(t *testing.T, dir string, env []string, stdin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return out.String(), exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("failed to run %v: %v", args, err)
	}
	return out.String(), 0
}

// Server is a running ./app serve.
type Server struct {
	URL    string
	Dir    string
	Output *syncBuffer

	process *exec.Cmd
	exited  chan struct{} // closed when the process has exited

	adminOnce sync.Once
	admin     *client.Client
	adminErr  error
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs `./app serve` for one test (see launchServer) and stops it when the test ends.
func startServer(t *testing.T, env ...string) *Server {
	t.Helper()
	srv, err := launchServer(t.TempDir(), env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.stop()
		if t.Failed() {
			t.Logf("server output:\n%s", srv.Output.String())
		}
	})
	return srv
}

// launchServer runs `./app serve` in dir on a free loopback port and waits until /api/health
// answers 200. APP_URL is set to the server's own address unless env sets it.
func launchServer(dir string, env ...string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	hasAppURL := false
	for _, kv := range env {
		hasAppURL = hasAppURL || strings.HasPrefix(kv, "APP_URL=")
	}
	if !hasAppURL {
		env = append(env, "APP_URL="+url)
	}
	cmd := exec.Command(binary, "serve", "--http", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir = dir
	cmd.Env = baseEnv(env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	srv := &Server{URL: url, Dir: dir, Output: out, process: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(srv.exited) }()

	health, err := client.New(url)
	if err != nil {
		srv.stop()
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = health.Do(ctx, "GET", "/api/health", nil, nil)
		cancel()
		if err == nil {
			return srv, nil
		}
		select {
		case <-srv.exited:
			return nil, fmt.Errorf("the server exited before it became healthy:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			srv.stop()
			return nil, fmt.Errorf("the server did not become healthy within 30s: %v\n%s", err, out.String())
		}
	}
}

// stop interrupts the server and waits up to 10 s for it to exit before killing it.
func (s *Server) stop() {
	_ = s.process.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.process.Process.Kill()
		<-s.exited
	}
}
