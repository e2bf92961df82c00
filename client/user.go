package client

import (
	"context"
	"encoding/json"
	"errors"
)

// Profile is the signed-in user's profile (GET /api/user).
type Profile struct {
	// ID is the user's record id.
	ID string `json:"id"`
	// Email is the user's email address.
	Email string `json:"email"`
	// GarminConnected reports whether a Garmin account is linked (set by the server only).
	GarminConnected bool `json:"garminConnected"`
	// CycleLength is the cycle length in days (20 to 60).
	CycleLength int `json:"cycleLength"`
	// LastPeriodDate is the day the last period started, "YYYY-MM-DD", or "" when unknown.
	LastPeriodDate string `json:"lastPeriodDate"`
	// NotificationTime is the daily reminder time, "HH:MM" in Timezone, or "" for none.
	NotificationTime string `json:"notificationTime"`
	// Timezone is an IANA time zone name such as "Europe/Berlin".
	Timezone string `json:"timezone"`
}

// ProfilePatch is a partial profile update: nil fields are left as they are. Set fields with
// Go's new, for example ProfilePatch{CycleLength: new(30), Timezone: new("Europe/Berlin")}.
type ProfilePatch struct {
	// CycleLength sets the cycle length in days (20 to 60).
	CycleLength *int
	// LastPeriodDate sets the day the last period started, "YYYY-MM-DD", not in the future.
	LastPeriodDate *string
	// ClearLastPeriodDate forgets the last period date (sent as JSON null). It cannot be combined
	// with LastPeriodDate.
	ClearLastPeriodDate bool
	// NotificationTime sets the reminder time, "HH:MM"; a pointer to "" turns reminders off.
	NotificationTime *string
	// Timezone sets the IANA time zone.
	Timezone *string
}

// errPatchConflict reports a ProfilePatch that both sets and clears the last period date.
var errPatchConflict = errors.New("invalid profile patch: LastPeriodDate and ClearLastPeriodDate are both set")

// MarshalJSON encodes the patch as the PATCH /api/user body: only the fields that are set, and
// "lastPeriodDate": null for ClearLastPeriodDate.
func (p ProfilePatch) MarshalJSON() ([]byte, error) {
	if p.LastPeriodDate != nil && p.ClearLastPeriodDate {
		return nil, errPatchConflict
	}
	body := map[string]any{}
	if p.CycleLength != nil {
		body["cycleLength"] = *p.CycleLength
	}
	if p.LastPeriodDate != nil {
		body["lastPeriodDate"] = *p.LastPeriodDate
	}
	if p.ClearLastPeriodDate {
		body["lastPeriodDate"] = nil
	}
	if p.NotificationTime != nil {
		body["notificationTime"] = *p.NotificationTime
	}
	if p.Timezone != nil {
		body["timezone"] = *p.Timezone
	}
	return json.Marshal(body)
}

// User returns the signed-in user's profile.
func (c *Client) User(ctx context.Context) (Profile, error) {
	var p Profile
	err := c.Do(ctx, "GET", "/api/user", nil, &p)
	return p, err
}

// UpdateUser applies patch to the profile and returns the result. A refused patch is an *Error
// with status 400 whose Data names each bad field; nothing is changed then. An empty patch is
// refused by the server too ("Nothing to update.").
func (c *Client) UpdateUser(ctx context.Context, patch ProfilePatch) (Profile, error) {
	if patch.LastPeriodDate != nil && patch.ClearLastPeriodDate {
		return Profile{}, errPatchConflict
	}
	var p Profile
	err := c.Do(ctx, "PATCH", "/api/user", patch, &p)
	return p, err
}

// CycleStatus is today's position in the cycle, in the user's time zone (GET /api/user/cycle).
type CycleStatus struct {
	// Date is today in the user's time zone, "YYYY-MM-DD".
	Date string `json:"date"`
	// CycleDay is the day of the cycle, from 1; 0 when the last period date is unknown.
	CycleDay int `json:"cycleDay"`
	// Phase is "menstrual", "follicular", "ovulation" or "luteal"; "" when unknown.
	Phase string `json:"phase"`
	// NextPeriod is the predicted start of the next period, "YYYY-MM-DD"; "" when unknown.
	NextPeriod string `json:"nextPeriod"`
}

// Cycle returns today's cycle day, phase and next predicted period.
func (c *Client) Cycle(ctx context.Context) (CycleStatus, error) {
	var s CycleStatus
	err := c.Do(ctx, "GET", "/api/user/cycle", nil, &s)
	return s, err
}

// CalendarToken reports whether the user has an active calendar feed.
func (c *Client) CalendarToken(ctx context.Context) (active bool, err error) {
	var out struct {
		Active bool `json:"active"`
	}
	err = c.Do(ctx, "GET", "/api/user/calendar-token", nil, &out)
	return out.Active, err
}

// CreateCalendarToken creates (or replaces) the user's calendar feed and returns its secret
// .ics URL. The server shows the URL only once and keeps only a hash of its token. Like SetMFA it
// needs proof of presence: a sign-in within the last 10 minutes (pass "") or the current password.
func (c *Client) CreateCalendarToken(ctx context.Context, password string) (feedURL string, err error) {
	var body any
	if password != "" {
		body = map[string]any{"password": password}
	}
	var out struct {
		URL string `json:"url"`
	}
	err = c.Do(ctx, "POST", "/api/user/calendar-token", body, &out)
	return out.URL, err
}

// DeleteCalendarToken revokes the user's calendar feed.
func (c *Client) DeleteCalendarToken(ctx context.Context) error {
	return c.Do(ctx, "DELETE", "/api/user/calendar-token", nil, nil)
}

// MFAState is the account's second factor (GET and POST /api/user/mfa).
type MFAState struct {
	// Enabled reports whether sign-ins need a second factor.
	Enabled bool `json:"enabled"`
	// Available reports whether the server can send the codes a second factor needs.
	Available bool `json:"available"`
}

// MFA returns the account's second-factor state.
func (c *Client) MFA(ctx context.Context) (MFAState, error) {
	var s MFAState
	err := c.Do(ctx, "GET", "/api/user/mfa", nil, &s)
	return s, err
}

// SetMFA turns the second factor on or off. Turning it off needs proof of presence: a sign-in
// within the last 10 minutes or the current password (pass "" to rely on the recent sign-in);
// without it the server answers 403, and a wrong password is a 400 that counts towards the
// account's lock. The password is sent only when it is not empty.
func (c *Client) SetMFA(ctx context.Context, enabled bool, password string) (MFAState, error) {
	body := map[string]any{"enabled": enabled}
	if password != "" {
		body["password"] = password
	}
	var s MFAState
	err := c.Do(ctx, "POST", "/api/user/mfa", body, &s)
	return s, err
}

// Export returns everything the server keeps about the account: the JSON document of
// GET /api/user/export (its format and version, the profile, the calendar feed's state, linked
// identities, sessions and sign-in events; the README lists the fields). It holds no secret. It
// needs a sign-in within the last 10 minutes; otherwise the server answers 403.
func (c *Client) Export(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.Do(ctx, "GET", "/api/user/export", nil, &out)
	return out, err
}

// DeleteAccount deletes the account and everything it holds (DELETE /api/user); it cannot be
// undone. confirmEmail must be the account's email address. Like SetMFA it needs proof of
// presence: a sign-in within the last 10 minutes (pass "") or the current password, whose wrong
// guesses count towards the account's lock. On success the token is dropped from memory, as
// every session of the account ended.
func (c *Client) DeleteAccount(ctx context.Context, confirmEmail, password string) error {
	body := map[string]any{"confirmEmail": confirmEmail}
	if password != "" {
		body["password"] = password
	}
	token := c.Token()
	if err := c.send(ctx, request{method: "DELETE", path: "/api/user", body: body, auth: true, token: token}); err != nil {
		return err
	}
	c.replaceToken(token, "")
	return nil
}
