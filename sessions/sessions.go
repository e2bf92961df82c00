// Package sessions is PhaseFlow's server-side sessions: one row per signed-in device in the
// sessions collection, whose id every users token carries as its sid claim. A sign-in creates
// the row, a refresh slides its idle expiry (never past the absolute one), and a token whose
// session is gone, idle-expired or past its absolute expiry counts as no token at all. A small
// in-process cache keeps the check off the database on most requests; ending a session removes
// it from the cache at once.
package sessions

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mileusna/useragent"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/retention"
	"phaseflow/users"
)

// Collection holds one row per signed-in device.
const Collection = "sessions"

// Fields of the sessions collection.
const (
	FieldUser         = "user"
	FieldMethod       = "method"
	FieldDevice       = "device"
	FieldIP           = "ip"
	FieldImpersonator = "impersonator"
	FieldLastSeen     = "lastSeen"
	FieldIdleExpires  = "idleExpires"
	FieldExpires      = "expires"
	FieldIDToken      = "idToken"
	FieldCreated      = "created"
	FieldUpdated      = "updated"
)

// MethodImpersonation is the method of a session a superuser (or `./app impersonate`) opened.
const MethodImpersonation = "impersonation"

// DeviceImpersonation is the device label of an impersonation session.
const DeviceImpersonation = "Opened by an administrator"

// ImpersonatorCLI is the impersonator of sessions opened with `./app impersonate`.
const ImpersonatorCLI = "cli"

// MaxImpersonation caps an impersonation session, on the HTTP endpoint as on the command line.
const MaxImpersonation = 30 * 24 * time.Hour

// ErrEnded reports a session that is gone, idle-expired or past its absolute expiry, or a token
// that names no session or another account's.
var ErrEnded = errors.New("the session has ended")

// Lifetimes are the two limits of every session.
type Lifetimes struct {
	// Idle ends a session this long after it was last seen (SESSION_DAYS).
	Idle time.Duration
	// Absolute ends a session this long after the sign-in, whatever happens (SESSION_MAX_DAYS).
	Absolute time.Duration
}

// LifetimesFromDays returns the lifetimes of SESSION_DAYS and SESSION_MAX_DAYS.
func LifetimesFromDays(idleDays, absoluteDays int) Lifetimes {
	return Lifetimes{Idle: time.Duration(idleDays) * 24 * time.Hour, Absolute: time.Duration(absoluteDays) * 24 * time.Hour}
}

// Session is one signed-in device.
type Session struct {
	ID           string
	UserID       string
	Method       string
	Device       string
	IP           string
	Impersonator string
	Created      time.Time
	LastSeen     time.Time
	IdleExpires  time.Time
	Expires      time.Time
	// IDToken is the identity provider's id_token of an OIDC sign-in (for RP-initiated logout).
	IDToken string
}

// Ends is when the session ends unless it is used again: its idle expiry, never past the
// absolute one.
func (s Session) Ends() time.Time {
	if s.Expires.Before(s.IdleExpires) {
		return s.Expires
	}
	return s.IdleExpires
}

// Live reports whether the session is still valid at now.
func (s Session) Live(now time.Time) bool {
	return now.Before(s.Ends())
}

// New describes a session to open.
type New struct {
	Method string
	// Device labels the session; the label of UserAgent when empty.
	Device       string
	UserAgent    string
	IP           string
	Impersonator string
	// IDToken is the identity provider's id_token of an OIDC sign-in.
	IDToken string
	// Expires, when set and earlier than the absolute lifetime allows, ends the session sooner
	// (an impersonation with a short duration).
	Expires time.Time
}

// DeviceLabel names the browser and system of a user agent for people, e.g. "Firefox on Linux".
func DeviceLabel(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	p := useragent.Parse(ua)
	name, os := p.Name, p.OS
	switch {
	case name != "" && os != "":
		return truncate(name+" on "+os, 100)
	case name != "":
		return truncate(name, 100)
	case os != "":
		return truncate(os, 100)
	}
	return "Unknown device"
}

// Create opens a session for user at now.
func Create(app core.App, lt Lifetimes, user *core.Record, in New, now time.Time) (Session, error) {
	col, err := app.FindCachedCollectionByNameOrId(Collection)
	if err != nil {
		return Session{}, err
	}
	expires := now.Add(lt.Absolute)
	if !in.Expires.IsZero() && in.Expires.Before(expires) {
		expires = in.Expires
	}
	s := Session{
		UserID:       user.Id,
		Method:       truncate(in.Method, 50),
		Device:       cmpOr(truncate(in.Device, 100), DeviceLabel(in.UserAgent)),
		IP:           truncate(in.IP, 64),
		Impersonator: truncate(in.Impersonator, 100),
		Created:      now,
		LastSeen:     now,
		IdleExpires:  minTime(now.Add(lt.Idle), expires),
		Expires:      expires,
		IDToken:      in.IDToken,
	}
	r := core.NewRecord(col)
	r.Set(FieldUser, s.UserID)
	r.Set(FieldMethod, s.Method)
	r.Set(FieldDevice, s.Device)
	r.Set(FieldIP, s.IP)
	r.Set(FieldImpersonator, s.Impersonator)
	r.Set(FieldLastSeen, s.LastSeen)
	r.Set(FieldIdleExpires, s.IdleExpires)
	r.Set(FieldExpires, s.Expires)
	r.Set(FieldIDToken, s.IDToken)
	if err := app.Save(r); err != nil {
		return Session{}, fmt.Errorf("failed to save the session: %w", err)
	}
	s.ID = r.Id
	s.Created = r.GetDateTime(FieldCreated).Time()
	cacheOf(app).put(s, now)
	return s, nil
}

// fromRecord reads a sessions row.
func fromRecord(r *core.Record) Session {
	return Session{
		ID:           r.Id,
		UserID:       r.GetString(FieldUser),
		Method:       r.GetString(FieldMethod),
		Device:       r.GetString(FieldDevice),
		IP:           r.GetString(FieldIP),
		Impersonator: r.GetString(FieldImpersonator),
		Created:      r.GetDateTime(FieldCreated).Time(),
		LastSeen:     r.GetDateTime(FieldLastSeen).Time(),
		IdleExpires:  r.GetDateTime(FieldIdleExpires).Time(),
		Expires:      r.GetDateTime(FieldExpires).Time(),
		IDToken:      r.GetString(FieldIDToken),
	}
}

// Find reads one session from the database.
func Find(app core.App, id string) (Session, error) {
	r, err := app.FindRecordById(Collection, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrEnded
	}
	if err != nil {
		return Session{}, err
	}
	return fromRecord(r), nil
}

// Check returns the live session id of userID at now, or ErrEnded. It is the one check of every
// path (PhaseFlow's routes, PocketBase's record API, refresh, realtime, the page guard).
func Check(app core.App, userID, id string, now time.Time) (Session, error) {
	if id == "" {
		return Session{}, ErrEnded
	}
	c := cacheOf(app)
	s, ok := c.get(id, now)
	if !ok {
		var err error
		s, err = Find(app, id)
		if err != nil {
			return Session{}, err
		}
		c.put(s, now)
	}
	if s.UserID != userID || !s.Live(now) {
		return Session{}, ErrEnded
	}
	return s, nil
}

// touchEvery bounds the last-seen writes: at most one a minute per session.
const touchEvery = time.Minute

// Touch records that the session was used at now and slides its idle expiry, at most once a
// minute (force: now, as a refresh does). It never moves the idle expiry past the absolute one,
// and writes only while the row is still live: a session ended meanwhile (deleted, or its
// expiry moved into the past by an operator) stays ended, and Touch returns ErrEnded.
func Touch(app core.App, lt Lifetimes, s Session, now time.Time, force bool) (Session, error) {
	c := cacheOf(app)
	if !force && !c.dueForTouch(s.ID, now) {
		return s, nil
	}
	s.LastSeen = now
	s.IdleExpires = minTime(now.Add(lt.Idle), s.Expires)
	nowS := now.UTC().Format(types.DefaultDateLayout)
	res, err := app.DB().Update(Collection, dbx.Params{
		FieldLastSeen:    nowS,
		FieldIdleExpires: s.IdleExpires.UTC().Format(types.DefaultDateLayout),
	}, dbx.And(dbx.HashExp{"id": s.ID}, dbx.NewExp(
		"[["+FieldIdleExpires+"]] > {:now} AND [["+FieldExpires+"]] > {:now}", dbx.Params{"now": nowS}))).Execute()
	if err != nil {
		return s, fmt.Errorf("failed to record the session's last use: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		c.forget(s.ID)
		return Session{}, ErrEnded
	}
	c.touched(s, now)
	return s, nil
}

// List returns the live sessions of userID at now, the most recently seen first.
func List(app core.App, userID string, now time.Time) ([]Session, error) {
	return findAll(app, "user = {:user} && idleExpires > {:now} && expires > {:now}", "-lastSeen",
		dbx.Params{"user": userID, "now": now.UTC().Format(types.DefaultDateLayout)})
}

// All returns every stored session of userID, ended ones the cleanup has not removed yet
// included, the oldest first (the account's data export).
func All(app core.App, userID string) ([]Session, error) {
	return findAll(app, FieldUser+" = {:user}", FieldCreated, dbx.Params{"user": userID})
}

// findAll reads the sessions matching a PocketBase filter, in sort order.
func findAll(app core.App, filter, sort string, params dbx.Params) ([]Session, error) {
	recs, err := app.FindRecordsByFilter(Collection, filter, sort, 0, 0, params)
	if err != nil {
		return nil, err
	}
	out := make([]Session, len(recs))
	for i, r := range recs {
		out[i] = fromRecord(r)
	}
	return out, nil
}

// End ends one session of userID. It returns ErrEnded when userID has no such session, so that
// another account's session id is answered like one that does not exist.
func End(app core.App, userID, id string) error {
	r, err := app.FindRecordById(Collection, id)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrEnded
	}
	if err != nil {
		return err
	}
	if r.GetString(FieldUser) != userID {
		return ErrEnded
	}
	return app.Delete(r) // Forget runs in the delete hook
}

// EndAll ends every session of userID except keep ("" for none) and reports how many it ended.
func EndAll(app core.App, userID, keep string) (int, error) {
	recs, err := app.FindAllRecords(Collection, dbx.HashExp{FieldUser: userID}, dbx.Not(dbx.HashExp{"id": keep}))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if err := app.Delete(r); err != nil {
			return n, fmt.Errorf("failed to end session %s: %w", r.Id, err)
		}
		n++
	}
	// Rows another writer deleted are still forgotten here.
	cacheOf(app).forgetUser(userID, keep)
	return n, nil
}

// DeleteExpired removes the rows of sessions that ended before now and reports how many.
func DeleteExpired(app core.App, now time.Time) (int64, error) {
	cut := now.UTC().Format(types.DefaultDateLayout)
	return retention.Delete(app, Collection, "[["+FieldIdleExpires+"]] <= {:now} OR [["+FieldExpires+"]] <= {:now}",
		dbx.Params{"now": cut})
}

// Forget drops a session from the cache of app, so the next check reads the database. Deleting
// or editing a sessions row (the admin UI included) calls it through the record hooks.
func Forget(app core.App, id string) {
	cacheOf(app).forget(id)
}

// CountLive reports how many sessions are live at now.
func CountLive(app core.App, now time.Time) (int64, error) {
	cut := now.UTC().Format(types.DefaultDateLayout)
	return app.CountRecords(Collection, dbx.NewExp("[["+FieldIdleExpires+"]] > {:now} AND [["+FieldExpires+"]] > {:now}", dbx.Params{"now": cut}))
}

// IsUserToken reports whether r is a users account (sessions exist only for those).
func IsUserToken(r *core.Record) bool {
	return r != nil && r.Collection().Name == users.Collection
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
