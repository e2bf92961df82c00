package pbpublic

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

func TestEmbeddedSDKIsPresent(t *testing.T) {
	raw, err := fs.ReadFile(Files, SDKPath)
	if err != nil {
		t.Fatalf("the PocketBase SDK is not embedded (run `make build`): %v", err)
	}
	// The 0.28 ES build is about 40 KB; a stub or an error page would be far smaller.
	if len(raw) < 20_000 {
		t.Fatalf("expected the full SDK, got %d bytes", len(raw))
	}
	for _, want := range []string{"Client as default", "getTokenPayload", "ClientResponseError"} {
		if !strings.Contains(string(raw), want) {
			t.Fatalf("expected the SDK to export %s", want)
		}
	}
}

// importPattern finds the static imports of an ES module.
var importPattern = regexp.MustCompile(`(?m)^\s*import\s+(?:[^"']*?\s+from\s+)?["']([^"']+)["']`)

func TestModuleImportsResolve(t *testing.T) {
	seen := 0
	err := fs.WalkDir(Files, "js", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) != ".js" {
			return err
		}
		raw, err := fs.ReadFile(Files, name)
		if err != nil {
			return err
		}
		for _, m := range importPattern.FindAllStringSubmatch(string(raw), -1) {
			seen++
			spec := m[1]
			var target string
			switch {
			case strings.HasPrefix(spec, "/"):
				target = strings.TrimPrefix(spec, "/")
			case strings.HasPrefix(spec, "./"), strings.HasPrefix(spec, "../"):
				target = path.Join(path.Dir(name), spec)
			default:
				// A bare specifier needs an importmap, which is inline script the CSP forbids.
				t.Errorf("%s imports %q: use a path", name, spec)
				continue
			}
			if _, err := fs.Stat(Files, target); err != nil {
				t.Errorf("%s imports %q, which is not embedded", name, spec)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 10 {
		t.Fatalf("expected the modules to import each other, found %d imports", seen)
	}
}

func TestNoInlineScriptOrStyle(t *testing.T) {
	shell, err := fs.ReadFile(Files, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(shell)
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(html, -1)
	if len(scripts) != 1 || !strings.Contains(scripts[0], `src="/js/main.js"`) || !strings.Contains(scripts[0], `type="module"`) {
		t.Fatalf("expected exactly one external module script, got %v", scripts)
	}
	for _, bad := range []string{"<style", " style=", "importmap", " onclick=", " onload=", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Fatalf("index.html contains %q, which the CSP blocks", bad)
		}
	}
	err = fs.WalkDir(Files, "js", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(Files, name)
		if err != nil {
			return err
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", `"style"`, "eval(", "new Function"} {
			if strings.Contains(string(raw), bad) {
				t.Errorf("%s uses %s: build elements with ui.js h() and style with classes", name, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOnlyPBConstructsTheClient(t *testing.T) {
	err := fs.WalkDir(Files, "js", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(Files, name)
		if err != nil {
			return err
		}
		n := strings.Count(string(raw), "new PocketBase(")
		if name == "js/pb.js" && n != 1 || name != "js/pb.js" && n != 0 {
			t.Errorf("%s constructs the client %d times; only js/pb.js may, once", name, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
