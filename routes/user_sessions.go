package routes

import (
	"errors"
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/sessions"
)

// SessionView is one entry of GET /api/user/sessions.
type SessionView struct {
	ID       string `json:"id"`
	Current  bool   `json:"current"`
	Device   string `json:"device"`
	IP       string `json:"ip"`
	Method   string `json:"method"`
	Created  string `json:"created"`
	LastSeen string `json:"lastSeen"`
	// Expires is when the session ends unless it is used again (never after its absolute end).
	Expires string `json:"expires"`
}

// LoggedOut is the POST /api/user/logout response when the session signed in with an identity
// provider that supports RP-initiated logout: the URL that also ends the provider's session.
type LoggedOut struct {
	IdentityProviderLogout string `json:"identityProviderLogout"`
}

// SessionsEnded is the POST /api/user/sessions/revoke-others response.
type SessionsEnded struct {
	Ended int `json:"ended"`
}

// msgSessionNotFound answers an id that is not one of the caller's live sessions, another
// account's included.
const msgSessionNotFound = "No such session on your account."

func bindUserSessions(g *router.RouterGroup[*core.RequestEvent], cfg config.Config) {
	g.POST("/logout", func(e *core.RequestEvent) error { return userLogout(e, cfg) })
	g.GET("/sessions", userSessions)
	g.DELETE("/sessions/{id}", userSessionEnd)
	g.POST("/sessions/revoke-others", userSessionsEndOthers)
}

// current is the caller's session; requireUser and the session middleware guarantee it.
func current(e *core.RequestEvent) (sessions.Session, error) {
	s, ok := sessions.Current(e)
	if !ok {
		return s, e.UnauthorizedError(msgSessionOver, nil)
	}
	return s, nil
}

// userLogout ends the caller's session on the server: its token stops working at once. A session
// that signed in with the identity provider also gets the provider's logout URL (200), so a
// shared computer need not stay signed in there; otherwise the answer is 204.
func userLogout(e *core.RequestEvent, cfg config.Config) error {
	s, err := current(e)
	if err != nil {
		return err
	}
	if err := sessions.End(e.App, e.Auth.Id, s.ID); err != nil && !errors.Is(err, sessions.ErrEnded) {
		return e.InternalServerError("", err)
	}
	audit.Request(e, audit.MethodLogout, audit.OutcomeSuccess, "Signed out on "+s.Device+".")
	if u := sessions.IdentityProviderLogoutURL(e.App, s, cfg.AppURL); u != "" {
		return e.JSON(http.StatusOK, LoggedOut{IdentityProviderLogout: u})
	}
	return e.NoContent(http.StatusNoContent)
}

func userSessions(e *core.RequestEvent) error {
	cur, err := current(e)
	if err != nil {
		return err
	}
	list, err := sessions.List(e.App, e.Auth.Id, time.Now())
	if err != nil {
		return e.InternalServerError("", err)
	}
	out := make([]SessionView, len(list))
	for i, s := range list {
		out[i] = SessionView{
			ID: s.ID, Current: s.ID == cur.ID, Device: s.Device, IP: s.IP, Method: s.Method,
			Created: timestamp(s.Created), LastSeen: timestamp(s.LastSeen), Expires: timestamp(s.Ends()),
		}
	}
	return e.JSON(http.StatusOK, out)
}

// userSessionEnd ends one of the caller's sessions (the current one included). Another
// account's session id gets the same 404 as one that does not exist, and nothing ends.
func userSessionEnd(e *core.RequestEvent) error {
	id := e.Request.PathValue("id")
	s, err := sessions.Find(e.App, id)
	if errors.Is(err, sessions.ErrEnded) || err == nil && s.UserID != e.Auth.Id {
		return e.NotFoundError(msgSessionNotFound, nil)
	}
	if err != nil {
		return e.InternalServerError("", err)
	}
	if err := sessions.End(e.App, e.Auth.Id, id); err != nil {
		if errors.Is(err, sessions.ErrEnded) {
			return e.NotFoundError(msgSessionNotFound, nil)
		}
		return e.InternalServerError("", err)
	}
	audit.Request(e, audit.MethodSessionEnd, audit.OutcomeSuccess, "Signed out "+s.Device+".")
	return e.NoContent(http.StatusNoContent)
}

// userSessionsEndOthers ends every session of the caller but the current one.
func userSessionsEndOthers(e *core.RequestEvent) error {
	cur, err := current(e)
	if err != nil {
		return err
	}
	n, err := sessions.EndAll(e.App, e.Auth.Id, cur.ID)
	if err != nil {
		return e.InternalServerError("", err)
	}
	audit.Request(e, audit.MethodLogoutOthers, audit.OutcomeSuccess, "Signed out of all other devices.")
	return e.JSON(http.StatusOK, SessionsEnded{Ended: n})
}

// timestamp formats a time as the JSON of PocketBase's records ("2006-01-02 15:04:05.000Z").
func timestamp(t time.Time) string {
	return t.UTC().Format(types.DefaultDateLayout)
}
