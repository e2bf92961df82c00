package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// caddyPath is Debian's Caddy (`apt-get install caddy`; .ci/run installs it). The tests never
// download a binary.
const caddyPath = "/usr/bin/caddy"

// caddyfile is the deployment's Caddyfile, which the proxy tests run unchanged.
var caddyfile, _ = filepath.Abs(filepath.Join("..", "deploy", "Caddyfile"))

// Caddy is Caddy running deploy/Caddyfile in front of one server: on 127.0.0.1 high ports only,
// TLS from Caddy's internal CA (local_certs: `tls internal` for the site), and its own HOME and
// XDG dirs, so the CA is created in a temporary directory and never installed anywhere (no
// `caddy trust`, skip_install_trust). Clients trust the CA's root certificate read from there.
type Caddy struct {
	URL     string // https://127.0.0.1:port, the server's APP_URL
	DataDir string // XDG_DATA_HOME: caddy/pki/authorities/local/ holds the CA
	Output  *syncBuffer
	roots   *x509.CertPool

	process *exec.Cmd
	exited  chan struct{}
}

// caddyTestGlobals are the global options the tests put in front of deploy/Caddyfile: no admin
// endpoint, loopback only, internal certificates, no HTTP listener on port 80.
const caddyTestGlobals = `{
	admin off
	default_bind 127.0.0.1
	local_certs
	skip_install_trust
	auto_https disable_redirects
	http_port %d
	https_port %d
}

import %s
`

// reservePort returns a free port on 127.0.0.1 for a server that starts later (Caddy's address
// must be the app's APP_URL before either runs).
func reservePort(t *testing.T) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startCaddy runs Caddy on 127.0.0.1:port in front of upstream (host:port) and waits until it
// answers /api/health over TLS. It stops when the test ends.
func startCaddy(t *testing.T, port int, upstream string) *Caddy {
	t.Helper()
	if _, err := os.Stat(caddyPath); err != nil {
		t.Fatalf("the proxy tests need Debian's Caddy at %s (apt-get install -y caddy): %v", caddyPath, err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(config, fmt.Appendf(nil, caddyTestGlobals, reservePort(t), port, caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Caddy{URL: fmt.Sprintf("https://127.0.0.1:%d", port), DataDir: filepath.Join(dir, "data"), Output: &syncBuffer{}, exited: make(chan struct{})}
	cmd := exec.Command(caddyPath, "run", "--config", config, "--adapter", "caddyfile")
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"XDG_DATA_HOME=" + c.DataDir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"PHASEFLOW_SITE=" + c.URL,
		"PHASEFLOW_UPSTREAM=" + upstream,
	}
	cmd.Stdout, cmd.Stderr = c.Output, c.Output
	if err := cmd.Start(); err != nil {
		t.Fatalf("failed to start Caddy: %v", err)
	}
	c.process = cmd
	go func() { _ = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("Caddy output:\n%s", c.Output.String())
		}
	})

	// The CA and the site's certificate are made at start; then the site answers over TLS.
	ok := poll(30*time.Second, func() bool {
		select {
		case <-c.exited:
			return true
		default:
		}
		if c.roots == nil {
			pemBytes, err := os.ReadFile(c.caFile("root.crt"))
			if err != nil {
				return false
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				return false
			}
			c.roots = pool
		}
		res, err := c.client("127.0.0.1").Get(c.URL + "/api/health")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	select {
	case <-c.exited:
		t.Fatalf("Caddy exited:\n%s", c.Output.String())
	default:
	}
	if !ok {
		t.Fatalf("Caddy did not serve %s within 30s:\n%s", c.URL, c.Output.String())
	}
	return c
}

// caFile is a file of Caddy's internal CA (root.crt, intermediate.crt).
func (c *Caddy) caFile(name string) string {
	return filepath.Join(c.DataDir, "caddy", "pki", "authorities", "local", name)
}

// client returns an HTTP client that trusts only Caddy's root certificate, connects from the
// loopback address localIP (127.0.0.2, 127.0.0.3, …: Caddy sees a different client for each)
// and does not follow redirects.
func (c *Caddy) client(localIP string) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:       dialer.DialContext,
			TLSClientConfig:   &tls.Config{RootCAs: c.roots, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// spkiHashes are the base64 SHA-256 hashes of the public keys of Caddy's CA (root and
// intermediate), for Chromium's --ignore-certificate-errors-spki-list: it then accepts
// certificates chaining to exactly this CA, and no other certificate error.
func (c *Caddy) spkiHashes(t *testing.T) []string {
	t.Helper()
	var hashes []string
	for _, name := range []string{"root.crt", "intermediate.crt"} {
		raw, err := os.ReadFile(c.caFile(name))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(raw)
		if block == nil {
			t.Fatalf("%s is not PEM", name)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
		hashes = append(hashes, base64.StdEncoding.EncodeToString(sum[:]))
	}
	return hashes
}

// stop ends Caddy (SIGINT, then a kill after 10 s).
func (c *Caddy) stop() {
	_ = c.process.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.process.Process.Kill()
		<-c.exited
	}
}

// hostPort is the host:port of a URL such as a Server's.
func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// get sends a GET with optional headers through hc and returns the response with its body read.
func get(t *testing.T, hc *http.Client, target string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	return send(t, hc, http.MethodGet, target, "", headers)
}

// send sends a request with an optional JSON body and returns the response with its body read.
func send(t *testing.T, hc *http.Client, method, target, jsonBody string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var body io.Reader
	if jsonBody != "" {
		body = strings.NewReader(jsonBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if jsonBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, target, err)
	}
	return res, string(raw)
}

// TestCaddyfileAsShipped: with no environment (the production defaults) deploy/Caddyfile adapts
// without a warning, is formatted as `caddy fmt` wants, proxies phaseflow.example.com to
// 127.0.0.1:8090 and adds no trusted_proxies (which would let clients choose their address).
func TestCaddyfileAsShipped(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(caddyPath); err != nil {
		t.Fatalf("the proxy tests need Debian's Caddy at %s (apt-get install -y caddy): %v", caddyPath, err)
	}
	caddy := func(args ...string) (stdout, stderr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, caddyPath, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("caddy %v: %v\n%s", args, err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	adapted, warnings := caddy("adapt", "--config", caddyfile, "--adapter", "caddyfile")
	if warnings != "" {
		t.Fatalf("expected no warnings, got:\n%s", warnings)
	}
	for _, want := range []string{`"host":["phaseflow.example.com"]`, `"dial":"127.0.0.1:8090"`,
		`"Strict-Transport-Security":["max-age=31536000; includeSubDomains"]`} {
		if !strings.Contains(adapted, want) {
			t.Fatalf("expected %s in the adapted config, got %s", want, adapted)
		}
	}
	if strings.Contains(adapted, "trusted_proxies") {
		t.Fatal("the Caddyfile trusts proxies: clients could set their own address")
	}
	raw, err := os.ReadFile(caddyfile)
	if err != nil {
		t.Fatal(err)
	}
	if formatted, _ := caddy("fmt", caddyfile); formatted != string(raw) {
		t.Fatalf("deploy/Caddyfile is not formatted; run caddy fmt --overwrite deploy/Caddyfile")
	}
}
