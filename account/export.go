package account

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/audit"
	"phaseflow/sessions"
	"phaseflow/users"
)

// ExportFormat names the export document, and ExportVersion its layout. The version grows when a
// field changes meaning or goes away; a new field does not change it.
const (
	ExportFormat  = "phaseflow-account-export"
	ExportVersion = 1
)

// Export is everything PhaseFlow keeps about one account, as GET /api/user/export downloads it.
// It never holds a secret: no password hash, token key, feed token or hash, session id,
// identity-provider token, or code.
type Export struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	ExportedAt string `json:"exportedAt"`
	// Profile is the users record.
	Profile ExportProfile `json:"profile"`
	// CalendarFeed says whether a feed URL works; the URL's token is known only to its owner.
	CalendarFeed ExportFeed `json:"calendarFeed"`
	// LinkedIdentities are the identity-provider logins that sign in to the account.
	LinkedIdentities []ExportIdentity `json:"linkedIdentities"`
	// Sessions are the signed-in devices, ended ones included until the daily cleanup removes them.
	Sessions []ExportSession `json:"sessions"`
	// AuthEvents are the sign-in attempts and security actions recorded for the account.
	AuthEvents []ExportEvent `json:"authEvents"`
}

// ExportProfile is the users record: GET /api/user's fields and the rest of what is stored.
type ExportProfile struct {
	ID               string  `json:"id"`
	Email            string  `json:"email"`
	Name             string  `json:"name"`
	Verified         bool    `json:"verified"`
	Approved         bool    `json:"approved"`
	MFA              bool    `json:"mfa"`
	GarminConnected  bool    `json:"garminConnected"`
	CycleLength      int     `json:"cycleLength"`
	LastPeriodDate   *string `json:"lastPeriodDate"`
	NotificationTime string  `json:"notificationTime"`
	Timezone         string  `json:"timezone"`
	// LastNotifiedOn is the local date of the last reminder mail ("" for none).
	LastNotifiedOn string `json:"lastNotifiedOn"`
	Created        string `json:"created"`
	Updated        string `json:"updated"`
}

// ExportFeed is the calendar feed's state.
type ExportFeed struct {
	Active bool `json:"active"`
}

// ExportIdentity is one linked identity-provider login. ProviderID is the subject the provider
// knows the person by: it identifies them there but cannot sign anyone in.
type ExportIdentity struct {
	Provider   string `json:"provider"`
	ProviderID string `json:"providerId"`
	Created    string `json:"created"`
}

// ExportSession is one signed-in device. Current marks the session the export was made from.
type ExportSession struct {
	Current bool   `json:"current"`
	Device  string `json:"device"`
	IP      string `json:"ip"`
	Method  string `json:"method"`
	Created string `json:"created"`
	// LastSeen is the last use (written at most once a minute).
	LastSeen string `json:"lastSeen"`
	// Expires is when the session ends unless used again, never after its absolute end.
	Expires string `json:"expires"`
}

// ExportEvent is one auth_events row of the account.
type ExportEvent struct {
	Method       string `json:"method"`
	Outcome      string `json:"outcome"`
	Reason       string `json:"reason"`
	Identity     string `json:"identity"`
	Actor        string `json:"actor"`
	SecondFactor bool   `json:"secondFactor"`
	IP           string `json:"ip"`
	UserAgent    string `json:"userAgent"`
	Created      string `json:"created"`
}

// ExportFilename is the name the download is saved under, e.g. phaseflow-export-2026-11-03.json.
func ExportFilename(now time.Time) string {
	return "phaseflow-export-" + now.UTC().Format(time.DateOnly) + ".json"
}

// NewExport collects everything stored about the account user at now. currentSession is the id
// of the session asking (marked current), "" for none.
func NewExport(app core.App, user *core.Record, currentSession string, now time.Time) (Export, error) {
	p := users.ProfileOf(user)
	out := Export{
		Format:     ExportFormat,
		Version:    ExportVersion,
		ExportedAt: timestamp(now),
		Profile: ExportProfile{
			ID:               p.ID,
			Email:            p.Email,
			Name:             user.GetString(users.FieldName),
			Verified:         user.Verified(),
			Approved:         user.GetBool(users.FieldApproved),
			MFA:              user.GetBool(users.FieldMFA),
			GarminConnected:  p.GarminConnected,
			CycleLength:      p.CycleLength,
			LastPeriodDate:   p.LastPeriodDate,
			NotificationTime: p.NotificationTime,
			Timezone:         p.Timezone,
			LastNotifiedOn:   user.GetString(users.FieldLastNotifiedOn),
			Created:          user.GetDateTime("created").String(),
			Updated:          user.GetDateTime("updated").String(),
		},
		CalendarFeed: ExportFeed{Active: user.GetString(users.FieldCalendarTokenHash) != ""},
	}

	links, err := app.FindAllExternalAuthsByRecord(user)
	if err != nil {
		return Export{}, fmt.Errorf("failed to read the linked identities: %w", err)
	}
	out.LinkedIdentities = make([]ExportIdentity, len(links))
	for i, l := range links {
		out.LinkedIdentities[i] = ExportIdentity{Provider: l.Provider(), ProviderID: l.ProviderId(), Created: l.Created().String()}
	}

	all, err := sessions.All(app, user.Id)
	if err != nil {
		return Export{}, fmt.Errorf("failed to read the sessions: %w", err)
	}
	out.Sessions = make([]ExportSession, len(all))
	for i, s := range all {
		out.Sessions[i] = ExportSession{
			Current: s.ID == currentSession, Device: s.Device, IP: s.IP, Method: s.Method,
			Created: timestamp(s.Created), LastSeen: timestamp(s.LastSeen), Expires: timestamp(s.Ends()),
		}
	}

	var events []*core.Record
	err = app.RecordQuery(audit.Collection).
		Where(dbx.Or(dbx.HashExp{audit.FieldUser: user.Id}, eventsOfEmailOnly(user.Email()))).
		OrderBy(audit.FieldCreated + " ASC").All(&events)
	if err != nil {
		return Export{}, fmt.Errorf("failed to read the auth events: %w", err)
	}
	out.AuthEvents = make([]ExportEvent, len(events))
	for i, r := range events {
		out.AuthEvents[i] = ExportEvent{
			Method:       r.GetString(audit.FieldMethod),
			Outcome:      r.GetString(audit.FieldOutcome),
			Reason:       r.GetString(audit.FieldReason),
			Identity:     r.GetString(audit.FieldIdentity),
			Actor:        r.GetString(audit.FieldActor),
			SecondFactor: r.GetBool(audit.FieldSecondFactor),
			IP:           r.GetString(audit.FieldIP),
			UserAgent:    r.GetString(audit.FieldUserAgent),
			Created:      r.GetDateTime(audit.FieldCreated).String(),
		}
	}
	return out, nil
}

// timestamp formats a time as PocketBase's records do ("2006-01-02 15:04:05.000Z").
func timestamp(t time.Time) string {
	return t.UTC().Format(types.DefaultDateLayout)
}
