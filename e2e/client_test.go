package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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

// postJSON sends a JSON body and decodes a JSON object answer.
func postJSON(t *testing.T, url, token string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return res.StatusCode, out
}

// signInSuperuser signs in the superuser created from POCKETBASE_ADMIN_* and returns its token.
func signInSuperuser(t *testing.T, srv *Server) string {
	t.Helper()
	code, out := postJSON(t, srv.URL+"/api/collections/_superusers/auth-with-password", "",
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
	code, out := postJSON(t, srv.URL+"/api/collections/users/records", adminToken, fields)
	if code != http.StatusOK {
		t.Fatalf("create user: %d %v", code, out)
	}
	return out
}
