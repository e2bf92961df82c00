package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// runIn runs the binary in dir (for example a server's working dir, to share its pb_data).
func runIn(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return out.String(), exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("failed to run %v: %v", args, err)
	}
	return out.String(), 0
}

// signInSuperuser signs in the superuser created from POCKETBASE_ADMIN_* and returns its token.
func signInSuperuser(t *testing.T, srv *Server) string {
	t.Helper()
	code, out := uiAPI(t, srv, "POST", "/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": "root@example.com", "password": "root-password-123"})
	tok, _ := out["token"].(string)
	if code != http.StatusOK || tok == "" {
		t.Fatalf("superuser sign-in: %d %v", code, out)
	}
	return tok
}

// createUser creates a users record with a superuser token.
func createUser(t *testing.T, srv *Server, adminToken string, fields map[string]any) map[string]any {
	t.Helper()
	code, out := uiAPI(t, srv, "POST", "/api/collections/users/records", adminToken, fields)
	if code != http.StatusOK {
		t.Fatalf("create user: %d %v", code, out)
	}
	return out
}
