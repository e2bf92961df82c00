package sessions

import (
	"errors"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"phaseflow/internal/reqbody"
	"phaseflow/users"
)

// Request-store and realtime-client keys.
const (
	currentKey        = "phaseflow.session"
	endedKey          = "phaseflow.sessionEnded"
	realtimeClientKey = "phaseflow.session"
)

// realtimeSession is what a realtime client remembers of the session that subscribed.
type realtimeSession struct{ userID, id string }

// Issue opens the session of a sign-in and puts its id in the token, or keeps the session of a
// refresh and slides it. It is an OnRecordAuthRequest handler for the users collection, bound
// after the sign-in policy:
//
//   - a sign-in (password, email code, OAuth2) creates the row; when the sign-in then stops (a
//     second factor is required, the auth rule refuses) the row is removed again;
//   - a superuser's impersonation creates an impersonation session, capped at MaxImpersonation;
//   - a refresh keeps the sid and the sign-in time and slides the idle expiry, never past the
//     absolute one: the new token expires when the session would.
func Issue(e *core.RecordAuthRequestEvent, lt Lifetimes) error {
	now := time.Now()
	switch {
	case e.AuthMethod != "":
		idToken, _ := e.Get(idTokenKey).(string)
		s, err := Create(e.App, lt, e.Record, New{
			Method: signInMethod(e), UserAgent: e.Request.UserAgent(), IP: e.RealIP(), IDToken: idToken,
		}, now)
		if err != nil {
			return e.InternalServerError("Failed to start the session.", err)
		}
		token, err := users.NewSessionToken(e.Record, users.SessionClaims{
			AuthTime: now.Unix(), SessionID: s.ID, Refreshable: true, Expires: s.Ends(),
		})
		if err != nil {
			discard(e.App, s.ID)
			return e.InternalServerError("Failed to create the auth token.", err)
		}
		e.Token = token
		if err := e.Next(); err != nil {
			discard(e.App, s.ID)
			return err
		}
		return nil

	case e.HasSuperuserAuth():
		requested := time.Now().Add(MaxImpersonation)
		if claims := tokenExpiry(e.Token); !claims.IsZero() && claims.Before(requested) {
			requested = claims
		}
		// The person's device list shows an administrator, not the superuser's address or browser.
		s, err := Create(e.App, lt, e.Record, New{
			Method: MethodImpersonation, Device: DeviceImpersonation, Impersonator: e.Auth.Id, Expires: requested,
		}, now)
		if err != nil {
			return e.InternalServerError("Failed to start the session.", err)
		}
		token, err := users.NewSessionToken(e.Record, users.SessionClaims{SessionID: s.ID, Expires: s.Expires})
		if err != nil {
			discard(e.App, s.ID)
			return e.InternalServerError("Failed to create the auth token.", err)
		}
		e.Token = token
		if err := e.Next(); err != nil {
			discard(e.App, s.ID)
			return err
		}
		return nil

	case e.Auth != nil && e.Auth.Id == e.Record.Id:
		incoming := users.RequestToken(e.RequestEvent)
		s, ok := Current(e.RequestEvent)
		if !ok {
			// The middleware lets no users token through without a live session.
			return e.UnauthorizedError("Your session has ended; sign in again.", nil)
		}
		if !users.Refreshable(incoming) {
			return e.Next() // an impersonation token is returned unchanged, as PocketBase does
		}
		s, err := Touch(e.App, lt, s, now, true)
		if errors.Is(err, ErrEnded) {
			return e.UnauthorizedError("Your session has ended; sign in again.", nil)
		}
		if err != nil {
			return e.InternalServerError("Failed to refresh the session.", err)
		}
		authTime, _ := users.AuthTime(incoming)
		token, err := users.NewSessionToken(e.Record, users.SessionClaims{
			AuthTime: authTime, SessionID: s.ID, Refreshable: true, Expires: s.Ends(),
		})
		if err != nil {
			return e.InternalServerError("Failed to create the auth token.", err)
		}
		e.Token = token
		return e.Next()
	}
	// A token PhaseFlow cannot tie to a session would be refused on its first use: fail now.
	return e.InternalServerError("", errors.New("an auth response without a session"))
}

// signInMethod names how a sign-in authenticated: password, otp or the OAuth2 provider (oidc
// for Pocket-ID), with "+mfa" when it completed a second factor.
func signInMethod(e *core.RecordAuthRequestEvent) string {
	method := e.AuthMethod
	if provider, _ := reqbody.String(e.RequestEvent, "provider"); method == core.MFAMethodOAuth2 && provider != "" {
		method = provider
	}
	if users.SecondFactorUsed(e) {
		method += "+mfa"
	}
	return method
}

// tokenExpiry reads a token's exp claim without verifying it.
func tokenExpiry(token string) time.Time {
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		return time.Time{}
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return time.Time{}
	}
	return exp.Time
}

// discard removes a session that never got to be used; a failure is only logged, as the session
// has no token anyone holds.
func discard(app core.App, id string) {
	if r, err := app.FindRecordById(Collection, id); err == nil {
		if err := app.Delete(r); err != nil {
			app.Logger().Warn("Failed to remove an unused session", "session", id, "error", err.Error())
		}
	}
	Forget(app, id)
}

// Middleware treats a users token whose session is gone, idle-expired or past its absolute
// expiry as no token at all, and records the session's use. It is a router middleware that must
// run right after PocketBase loads the auth token, before anything reads e.Auth.
func Middleware(lt Lifetimes) func(*core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		switch {
		case IsUserToken(e.Auth):
			s, err := CheckToken(e.App, lt, e.Auth, users.RequestToken(e), time.Now())
			if err != nil {
				e.Auth = nil
				e.Set(endedKey, true)
			} else {
				e.Set(currentKey, s)
			}
		case e.Auth == nil && users.SessionID(users.RequestToken(e)) != "":
			// A token of a session that ended by a new token key (sign-out everywhere, a new
			// password) no longer verifies; its sid still tells the answer what happened.
			e.Set(endedKey, true)
		}
		return e.Next()
	}
}

// CheckToken checks the session of a verified users token (the Authorization header or the
// page guard's cookie) and records its use. A database failure counts as an ended session (fail
// closed) and is logged.
func CheckToken(app core.App, lt Lifetimes, record *core.Record, token string, now time.Time) (Session, error) {
	s, err := Check(app, record.Id, users.SessionID(token), now)
	if err != nil {
		if !errors.Is(err, ErrEnded) {
			app.Logger().Error("Failed to check a session; treating it as ended", "user", record.Id, "error", err.Error())
		}
		return Session{}, ErrEnded
	}
	touched, err := Touch(app, lt, s, now, false)
	switch {
	case errors.Is(err, ErrEnded):
		return Session{}, ErrEnded
	case err != nil:
		app.Logger().Warn("Failed to record a session's last use", "session", s.ID, "error", err.Error())
		return s, nil
	}
	return touched, nil
}

// Current returns the session the middleware found for the request's token.
func Current(e *core.RequestEvent) (Session, bool) {
	s, ok := e.Get(currentKey).(Session)
	return s, ok
}

// Ended reports whether the request carried a valid users token whose session has ended, so an
// answer can say so rather than ask for a sign-in as if there had been none.
func Ended(e *core.RequestEvent) bool {
	ended, _ := e.Get(endedKey).(bool)
	return ended
}

// RememberRealtime ties a realtime client to the session that subscribes with it. It is an
// OnRealtimeSubscribeRequest handler.
func RememberRealtime(e *core.RealtimeSubscribeRequestEvent) error {
	if s, ok := Current(e.RequestEvent); ok && IsUserToken(e.Auth) {
		e.Client.Set(realtimeClientKey, realtimeSession{userID: s.UserID, id: s.ID})
	} else {
		e.Client.Unset(realtimeClientKey)
	}
	return e.Next()
}

// GuardRealtime stops a realtime connection whose session has ended: the message is not sent, the
// client loses its auth and is discarded, which closes the connection. It is an
// OnRealtimeMessageSend handler.
func GuardRealtime(e *core.RealtimeMessageEvent) error {
	rs, ok := e.Client.Get(realtimeClientKey).(realtimeSession)
	if !ok {
		return e.Next()
	}
	if _, err := Check(e.App, rs.userID, rs.id, time.Now()); err != nil {
		endRealtime(e.Client)
		return nil
	}
	return e.Next()
}

// clientStore is the part of a realtime client endRealtime needs.
type clientStore interface {
	Unset(key string)
	Discard()
}

func endRealtime(c clientStore) {
	c.Unset(apis.RealtimeClientAuthKey)
	c.Unset(realtimeClientKey)
	c.Discard()
}

// OnDeleted forgets a deleted session and closes its realtime connections at once, however it was
// deleted (sign-out, the admin UI, a cascade from the account). It is an OnRecordAfterDeleteSuccess
// handler for the sessions collection.
func OnDeleted(e *core.RecordEvent) error {
	Forget(e.App, e.Record.Id)
	for _, c := range e.App.SubscriptionsBroker().Clients() {
		if rs, ok := c.Get(realtimeClientKey).(realtimeSession); ok && rs.id == e.Record.Id {
			endRealtime(c)
		}
	}
	return e.Next()
}

// OnChanged forgets an edited session (an operator moved its expiry), so the next check reads
// the new values. It is an OnRecordAfterUpdateSuccess handler for the sessions collection.
func OnChanged(e *core.RecordEvent) error {
	Forget(e.App, e.Record.Id)
	return e.Next()
}

// EndAllOnKeyChange ends every session of an account whose token key changed (sign-out
// everywhere, a password or email change, a verification or approval change, an OIDC unlink):
// its tokens stopped working in the same save, and the rows follow. It is an
// OnRecordAfterUpdateSuccess handler for the users collection; a failure is logged, because the
// tokens are dead already.
func EndAllOnKeyChange(e *core.RecordEvent) error {
	if e.Record.TokenKey() != e.Record.Original().TokenKey() {
		if _, err := EndAll(e.App, e.Record.Id, ""); err != nil {
			e.App.Logger().Error("Failed to remove the sessions of an account whose token key changed", "user", e.Record.Id, "error", err.Error())
		}
	}
	return e.Next()
}
