package reqbody_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/internal/apptest"
	"phaseflow/internal/reqbody"
)

// passwordForm is how PocketBase's auth-with-password handler binds its body (apis/record_auth_with_password.go).
type passwordForm struct {
	Identity      string `form:"identity" json:"identity"`
	Password      string `form:"password" json:"password"`
	IdentityField string `form:"identityField" json:"identityField"`
}

func event(body, contentType string) *core.RequestEvent {
	req := httptest.NewRequest(http.MethodPost, "/api/collections/users/auth-with-password", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Body = &router.RereadableReadCloser{ReadCloser: req.Body}
	return &core.RequestEvent{Event: router.Event{Request: req, Response: httptest.NewRecorder()}}
}

// TestStringBindsAsPocketBaseDoes: for every body, String gives the identity PocketBase's own
// form gets, including the spellings RequestInfo().Body does not show under "identity".
func TestStringBindsAsPocketBaseDoes(t *testing.T) {
	multi, multiHeaders := apptest.Multipart(t, "@jsonPayload", `{"identity":"ana@example.com"}`)
	repeated, repeatedHeaders := apptest.Multipart(t, "identity", "ana@example.com", "identity", "bob@example.com")
	multiType, repeatedType := multiHeaders["Content-Type"], repeatedHeaders["Content-Type"]
	cases := []struct {
		name, body, contentType string
		hiddenFromMap           bool
	}{
		{"plain JSON", `{"identity":"ana@example.com","password":"x"}`, "application/json", false},
		{"capitalised", `{"Identity":"ana@example.com"}`, "application/json", true},
		{"upper case", `{"IDENTITY":"ana@example.com"}`, "application/json; charset=utf-8", true},
		{"with an underscore", `{"iden_tity":"ana@example.com"}`, "application/json", true},
		{"with a dash", `{"-identity-":"ana@example.com"}`, "application/json", true},
		{"a repeated form field", "identity=ana%40example.com&identity=bob%40example.com", "application/x-www-form-urlencoded", true},
		{"a repeated multipart field", repeated, repeatedType, true},
		{"a multipart @jsonPayload", multi, multiType, false},
		{"no identity", `{"password":"x"}`, "application/json", false},
		{"trailing bytes after the object", `{"identity":"ana@example.com"} trailing`, "application/json", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want passwordForm
			wantErr := event(c.body, c.contentType).BindBody(&want)

			e := event(c.body, c.contentType)
			got, err := reqbody.String(e, "identity")
			if (err != nil) != (wantErr != nil) || got != want.Identity {
				t.Fatalf("expected %q (error %v) as PocketBase binds it, got %q (error %v)", want.Identity, wantErr, got, err)
			}
			// The handler that runs next still reads the whole body.
			var after passwordForm
			if err := e.BindBody(&after); (err != nil) != (wantErr != nil) || after != want {
				t.Fatalf("expected the body intact for the handler, got %+v (error %v)", after, err)
			}
			info, err := e.RequestInfo()
			if err != nil {
				t.Fatal(err)
			}
			fromMap, _ := info.Body["identity"].(string)
			if hidden := fromMap != want.Identity; hidden != c.hiddenFromMap {
				t.Fatalf("expected the map to hide the identity: %v, map has %q", c.hiddenFromMap, fromMap)
			}
		})
	}
}

// TestStringRefusesWhatPocketBaseRefuses: a body PocketBase's form cannot bind gives an error,
// never an empty identity that would pass for "none sent".
func TestStringRefusesWhatPocketBaseRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":                  `{"identity":`,
		"a number":                  `{"identity":5}`,
		"one name spelled twice":    `{"identity":"ana@example.com","Identity":"bob@example.com"}`,
		"the same name twice":       `{"identity":"ana@example.com","identity":"bob@example.com"}`,
		"folded names that collide": `{"IDENTITY":"ana@example.com","iden-tity":"bob@example.com"}`,
	} {
		t.Run(name, func(t *testing.T) {
			var form passwordForm
			if err := event(body, "application/json").BindBody(&form); err == nil {
				t.Fatalf("PocketBase's binding accepts %s; the case is wrong", body)
			}
			if got, err := reqbody.String(event(body, "application/json"), "identity"); err == nil {
				t.Fatalf("expected an error, got %q", got)
			}
		})
	}
}
