package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Replicator is a running ./app replicate.
type Replicator struct {
	Output  *syncBuffer
	process *exec.Cmd
	exited  chan struct{}
}

// startReplicator runs ./app replicate in dir and waits until it reports that it replicates.
func startReplicator(t *testing.T, dir string, env ...string) *Replicator {
	t.Helper()
	cmd := exec.Command(binary, "replicate")
	cmd.Dir = dir
	cmd.Env = baseEnv(env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &Replicator{Output: out, process: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		_ = r.process.Process.Kill()
		<-r.exited
		if t.Failed() {
			t.Logf("replicator output:\n%s", out.String())
		}
	})
	eventually(t, "the replicator to start", func() bool {
		select {
		case <-r.exited:
			t.Fatalf("the replicator exited: %s", out.String())
		default:
		}
		return strings.Contains(out.String(), "Replicating data.db")
	})
	return r
}

// write is one user created through the API, and when the server acknowledged it.
type write struct {
	email string
	acked time.Time
}

// writeUntilKilled creates users through the superuser API one after another until a request
// fails (the server was killed) or max writes are done; it returns the acknowledged ones, in
// order. started is closed after the first n acknowledged writes.
func writeUntilKilled(t *testing.T, srv *Server, prefix string, n, max int, started chan<- struct{}) []write {
	t.Helper()
	admin := srv.superuser(t)
	var acked []write
	for i := range max {
		email := fmt.Sprintf("%s-%03d@example.com", prefix, i)
		body := map[string]any{"email": email, "password": userPassword, "passwordConfirm": userPassword, "verified": true}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := admin.Do(ctx, "POST", "/api/collections/users/records", body, nil)
		cancel()
		if err != nil {
			break
		}
		acked = append(acked, write{email: email, acked: time.Now()})
		if len(acked) == n {
			close(started)
		}
	}
	return acked
}

// emailsIn lists the emails of the users starting with prefix on srv.
func emailsIn(t *testing.T, srv *Server, prefix string) map[string]bool {
	t.Helper()
	q := url.Values{"perPage": {"500"}, "filter": {fmt.Sprintf("email ~ '%s-%%'", prefix)}, "fields": {"email"}}
	var out struct {
		Items []struct {
			Email string `json:"email"`
		} `json:"items"`
	}
	if err := srv.superuser(t).Do(t.Context(), "GET", "/api/collections/users/records?"+q.Encode(), nil, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, it := range out.Items {
		got[it.Email] = true
	}
	return got
}

// restoreReplica runs ./app replica restore into a fresh directory and serves it.
func restoreReplica(t *testing.T, from string, env []string) *Server {
	t.Helper()
	fresh := t.TempDir()
	copyLedger(t, from, fresh)
	out, code := runIn(t, fresh, baseEnv(env...), "replica", "restore")
	if code != 0 || !strings.Contains(out, "restored data.db from ") {
		t.Fatalf("expected the replica restore to succeed, got %d: %s", code, out)
	}
	srv, err := launchServer(fresh, adminEnv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	return srv
}

func TestReplicaKeepsEveryAcknowledgedWriteWhenTheServerIsKilled(t *testing.T) {
	t.Parallel()
	env := append([]string{"REPLICA_URL=file://" + t.TempDir()}, adminEnv...)
	srv := startServer(t, env...)
	repl := startReplicator(t, srv.Dir, env...)

	// Write in a loop; kill the server with SIGKILL once 20 writes were acknowledged, while
	// the loop is still writing.
	started := make(chan struct{})
	var acked []write
	var wg sync.WaitGroup
	wg.Go(func() { acked = writeUntilKilled(t, srv, "w", 20, 300, started) })
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		t.Fatal("20 writes were not acknowledged within 60s")
	}
	if err := srv.process.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	wg.Wait()

	// The replicator outlives the server and ships what the server committed; stopping it
	// (SIGTERM) waits for that.
	if err := repl.process.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-repl.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the replicator did not stop within 60s")
	}
	if code := repl.process.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("expected the replicator to exit 0, got %d: %s", code, repl.Output.String())
	}

	restored := restoreReplica(t, srv.Dir, env)
	got := emailsIn(t, restored, "w")
	for _, w := range acked {
		if !got[w.email] {
			t.Fatalf("acknowledged write %s is missing after the replica restore (%d acknowledged, %d restored)", w.email, len(acked), len(got))
		}
	}
	if len(got) > len(acked)+1 {
		t.Fatalf("expected at most the acknowledged writes and the one in flight, got %d for %d", len(got), len(acked))
	}
	t.Logf("%d writes acknowledged before the kill, all %d in the restored database (%d restored)", len(acked), len(acked), len(got))
	signIn(t, restored, acked[len(acked)-1].email)
}

// TestReplicaRecoveryPoint measures the recovery point when the machine is lost: the server and
// the replicator are killed together, so only what reached the replica survives. It asserts
// that the restored writes are exactly a prefix of the acknowledged ones (no holes) and logs how
// long before the kill the newest lost write had been acknowledged.
func TestReplicaRecoveryPoint(t *testing.T) {
	t.Parallel()
	env := append([]string{"REPLICA_URL=file://" + t.TempDir()}, adminEnv...)
	srv := startServer(t, env...)
	repl := startReplicator(t, srv.Dir, env...)

	started := make(chan struct{})
	var acked []write
	var wg sync.WaitGroup
	wg.Go(func() { acked = writeUntilKilled(t, srv, "rpo", 30, 300, started) })
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		t.Fatal("30 writes were not acknowledged within 60s")
	}
	_ = repl.process.Process.Kill()
	_ = srv.process.Process.Kill()
	killed := time.Now()
	<-repl.exited
	<-srv.exited
	wg.Wait()

	restored := restoreReplica(t, srv.Dir, env)
	got := emailsIn(t, restored, "rpo")
	kept := 0
	for kept < len(acked) && got[acked[kept].email] {
		kept++
	}
	for _, w := range acked[kept:] {
		if got[w.email] {
			t.Fatalf("write %s was restored although an earlier acknowledged write was lost", w.email)
		}
	}
	if kept == 0 {
		t.Fatal("expected the writes acknowledged long before the kill in the replica, got none")
	}
	window := time.Duration(0)
	if kept < len(acked) {
		window = killed.Sub(acked[kept].acked)
	}
	t.Logf("recovery point: %d of %d acknowledged writes restored; the lost ones were acknowledged within %v before the kill",
		kept, len(acked), window.Round(time.Millisecond))
}
