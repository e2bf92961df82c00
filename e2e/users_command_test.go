package e2e

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"phaseflow/client"
)

// TestUsersCommand runs ./app users create and list against a running server's data dir: the
// password comes from a pipe or, on a terminal, is asked twice without echo; the account then
// signs in through the server.
func TestUsersCommand(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	env := baseEnv()
	const password = "lantern otter violet meadow"

	t.Run("users create takes the password from a pipe and the account signs in", func(t *testing.T) {
		out, code := runInWithInput(t, srv.Dir, env, password+"\n", "users", "create", "Cli-Ana@Example.com", "--verified")
		if code != 0 || !strings.Contains(out, "created cli-ana@example.com (id ") || !strings.Contains(out, ", verified, approved)") {
			t.Fatalf("expected exit 0 and the created line, got %d: %s", code, out)
		}
		if strings.Contains(out, password) {
			t.Fatal("the output shows the password")
		}
		rec, err := mustClient(t, srv).AuthWithPassword(t.Context(), "cli-ana@example.com", password)
		if err != nil || rec.Email != "cli-ana@example.com" {
			t.Fatalf("expected the new account to sign in, got %+v %v", rec, err)
		}
	})

	t.Run("users create refuses a taken address, a weak password and a password argument", func(t *testing.T) {
		cases := []struct {
			name, stdin string
			args        []string
			code        int
			want        string
		}{
			{"taken", password + "\n", []string{"users", "create", "CLI-ANA@example.com"}, 1,
				"refused: an account with email cli-ana@example.com already exists"},
			{"short", "too short\n", []string{"users", "create", "cli-short@example.com"}, 1,
				"refused: the password is not accepted: Use at least 15 characters."},
			{"argument", "", []string{"users", "create", "cli-arg@example.com", password}, 2,
				"Error: users create takes one argument, EMAIL; the password is read from standard input, never from an argument\n" +
					"Run './app users create --help' for usage."},
			{"no input", "", []string{"users", "create", "cli-empty@example.com"}, 2, "Error: no password on standard input"},
			{"unknown flag", password + "\n", []string{"users", "create", "cli-flag@example.com", "--admin"}, 2,
				"Error: unknown flag: --admin\nRun './app users create --help' for usage."},
		}
		for _, c := range cases {
			out, code := runInWithInput(t, srv.Dir, env, c.stdin, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Fatalf("%s: expected exit %d with %q, got %d: %s", c.name, c.code, c.want, code, out)
			}
		}
		out, _ := runIn(t, srv.Dir, env, "users", "list")
		for _, email := range []string{"cli-short@example.com", "cli-arg@example.com", "cli-empty@example.com", "cli-flag@example.com"} {
			if strings.Contains(out, email) {
				t.Fatalf("a refused %s was created: %s", email, out)
			}
		}
	})

	t.Run("on a terminal the password is asked twice without echo", func(t *testing.T) {
		out, code := onTerminal(t, srv.Dir, []string{"users", "create", "cli-tty@example.com", "--verified"}, password, password)
		if code != 0 || !strings.Contains(out, "created cli-tty@example.com") {
			t.Fatalf("expected exit 0, got %d: %s", code, out)
		}
		if strings.Contains(out, password) {
			t.Fatalf("the terminal echoed the password: %q", out)
		}
		if _, err := mustClient(t, srv).AuthWithPassword(t.Context(), "cli-tty@example.com", password); err != nil {
			t.Fatalf("expected the account to sign in: %v", err)
		}

		out, code = onTerminal(t, srv.Dir, []string{"users", "create", "cli-typo@example.com"}, password, password+"x")
		if code != 1 || !strings.Contains(out, "refused: the two passwords differ; nothing was created") {
			t.Fatalf("expected exit 1 for differing passwords, got %d: %s", code, out)
		}
		if _, err := mustClient(t, srv).AuthWithPassword(t.Context(), "cli-typo@example.com", password); client.StatusCode(err) != 400 {
			t.Fatalf("expected no account for differing passwords, got %v", err)
		}
	})

	t.Run("users list shows the accounts and no secrets", func(t *testing.T) {
		out, code := runIn(t, srv.Dir, env, "users", "list")
		if code != 0 || !strings.Contains(out, "cli-ana@example.com") || !strings.Contains(out, "cli-tty@example.com") ||
			!strings.HasSuffix(out, "2 account(s)\n") {
			t.Fatalf("expected both accounts listed, got %d: %s", code, out)
		}
		if strings.Contains(out, "$2a$") || strings.Contains(out, password) {
			t.Fatalf("users list shows a secret: %s", out)
		}
	})
}

// onTerminal runs the binary in dir on a pseudo-terminal (util-linux script(1)) and types each
// answer once its prompt ("Password: ", then "Repeat the password: ") is shown. It returns what
// the terminal showed and the exit code.
func onTerminal(t *testing.T, dir string, args []string, answers ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "--quiet", "--return", "--command", binary+" "+strings.Join(args, " "), "/dev/null")
	cmd.Dir = dir
	cmd.Env = baseEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("script(1) from util-linux is needed: %v", err)
	}
	prompts := []string{"Password: ", "Repeat the password: "}
	var shown strings.Builder
	r := bufio.NewReader(stdout)
	next := 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("reading the terminal: %v", err)
			}
			break
		}
		shown.WriteByte(b)
		if next < len(answers) && strings.HasSuffix(shown.String(), prompts[next]) {
			// "\n", not the "\r" of an Enter key: the answer may reach the terminal while it is
			// still raw (no CR to NL translation), between the prompt and the read.
			if _, err := io.WriteString(stdin, answers[next]+"\n"); err != nil {
				t.Fatal(err)
			}
			next++
		}
	}
	_ = stdin.Close()
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return shown.String(), exitErr.ExitCode()
	} else if err != nil || ctx.Err() != nil {
		t.Fatalf("script: %v %v\n%s", err, ctx.Err(), shown.String())
	}
	if next != len(answers) {
		t.Fatalf("expected %d prompts, saw %d:\n%s", len(answers), next, shown.String())
	}
	return shown.String(), 0
}
