package cycle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
)

// Defaults and bounds of FeedOptions.
const (
	// DefaultCyclesBack is how many past cycles a feed shows by default.
	DefaultCyclesBack = 3
	// DefaultCyclesAhead is how many future cycles a feed shows by default.
	DefaultCyclesAhead = 6
	// MaxFeedCycles bounds CyclesBack and CyclesAhead each.
	MaxFeedCycles = 24
	// DefaultProductID is the PRODID of a feed without FeedOptions.ProductID.
	DefaultProductID = "-//PhaseFlow//PhaseFlow Calendar//EN"
	// DefaultDomain is the UID suffix of a feed without FeedOptions.Domain.
	DefaultDomain = "phaseflow"
)

// feedRefresh is how often calendar apps are asked to poll the feed.
const feedRefresh = "PT12H"

// FeedOptions controls RenderICS.
//
// UserID, ProductID and Domain go into the feed as TEXT, so they must be
// valid UTF-8 without control characters; RenderICS and FeedETag refuse
// them otherwise.
type FeedOptions struct {
	// UserID identifies the feed's owner in every event UID. Required.
	UserID string
	// Now decides the current cycle, via its date in the profile's time
	// zone. Required.
	Now time.Time
	// Stamp is every event's DTSTAMP. Pass the profile's last update so the
	// output only changes when the profile does; when zero, midnight UTC of
	// Now's date is used.
	Stamp time.Time
	// CyclesBack is how many cycles before the current one to include;
	// DefaultCyclesBack when 0.
	CyclesBack int
	// CyclesAhead is how many cycles after the current one to include;
	// DefaultCyclesAhead when 0.
	CyclesAhead int
	// ProductID is the calendar's PRODID; DefaultProductID when "".
	ProductID string
	// Domain follows "@" in every event UID, such as the app's host name;
	// DefaultDomain when "".
	Domain string
}

// RenderICS renders the profile's predicted phases as an RFC 5545 calendar,
// with one all-day event per phase of each cycle from CyclesBack cycles
// before the current one to CyclesAhead cycles after it.
//
// Event UIDs are "<userID>-<cycleStart>-<phase>@<domain>", so a calendar app
// refreshing the feed updates events instead of duplicating them; when the
// profile changes, the cycle starts move and the old events disappear. The
// output is byte-for-byte the same for the same profile and options (and
// the same date of Now).
//
// A profile without a last period date yields a calendar without events and
// no error, so a subscribed calendar app shows nothing instead of reporting a
// broken feed. RFC 5545 asks for at least one component, so that calendar
// carries a VTIMEZONE for UTC, which no event refers to.
func RenderICS(p Profile, opt FeedOptions) ([]byte, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	spans, err := feedSpans(p, opt)
	if err != nil && !errors.Is(err, ErrNoLastPeriod) {
		return nil, fmt.Errorf("failed to predict calendar: %w", err)
	}

	cal := ics.NewCalendar()
	// NewCalendar sets VERSION:2.0 and its own PRODID ("-//arran4//Golang
	// ICS Library"); SetProductId replaces that value in place, so the feed
	// has one PRODID. golang-ical writes properties in the order they are
	// set. No METHOD is set: a subscribed feed is not an iTIP message.
	cal.SetProductId(opt.ProductID)
	cal.SetCalscale("GREGORIAN")
	// SetName writes both NAME (RFC 7986) and X-WR-CALNAME (Apple, Google).
	cal.SetName("PhaseFlow")
	cal.SetXWRCalDesc("Estimated menstrual cycle phases. Not medical advice.")
	// RFC 7986 requires the explicit VALUE=DURATION; golang-ical's property
	// name for REFRESH-INTERVAL already carries it, so no parameter is added.
	cal.SetRefreshInterval(feedRefresh)
	cal.SetXPublishedTTL(feedRefresh)

	stamp := opt.Stamp.UTC().Truncate(time.Second)
	for _, s := range spans {
		cal.AddVEvent(spanEvent(s, p.CycleLength, stamp, opt))
	}
	if len(spans) == 0 {
		addUTCTimezone(cal)
	}

	var buf bytes.Buffer
	// golang-ical ends lines with "\n" on Unix unless told otherwise; it
	// folds lines longer than the line length (counted in octets, whole
	// UTF-8 sequences only), preferring to fold before a space.
	if err := cal.SerializeTo(&buf, ics.WithNewLineWindows, ics.WithLineLength(maxLineOctets)); err != nil {
		return nil, fmt.Errorf("failed to encode calendar: %w", err)
	}
	return buf.Bytes(), nil
}

func (opt FeedOptions) withDefaults() (FeedOptions, error) {
	switch {
	case opt.UserID == "":
		return opt, errors.New("cycle: FeedOptions.UserID is required")
	case opt.Now.IsZero():
		return opt, errors.New("cycle: FeedOptions.Now is required")
	case opt.CyclesBack < 0 || opt.CyclesBack > MaxFeedCycles,
		opt.CyclesAhead < 0 || opt.CyclesAhead > MaxFeedCycles:
		return opt, fmt.Errorf("cycle: FeedOptions cycles must be between 0 and %d", MaxFeedCycles)
	}
	for _, f := range []struct{ name, value string }{
		{"UserID", opt.UserID}, {"ProductID", opt.ProductID}, {"Domain", opt.Domain},
	} {
		if !plainText(f.value) {
			return opt, fmt.Errorf("cycle: FeedOptions.%s must be valid UTF-8 without control characters", f.name)
		}
	}
	if opt.CyclesBack == 0 {
		opt.CyclesBack = DefaultCyclesBack
	}
	if opt.CyclesAhead == 0 {
		opt.CyclesAhead = DefaultCyclesAhead
	}
	if opt.ProductID == "" {
		opt.ProductID = DefaultProductID
	}
	if opt.Domain == "" {
		opt.Domain = DefaultDomain
	}
	if opt.Stamp.IsZero() {
		opt.Stamp = DateOf(opt.Now.UTC()).In(time.UTC)
	}
	return opt, nil
}

// plainText reports whether s can go into a TEXT value. golang-ical escapes
// backslash, LF, ";" and "," but writes every other control character, CR
// included, into the feed unchanged, and its folding counts an invalid UTF-8
// byte as three octets; so such input is refused before rendering instead.
func plainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// feedFormat names RenderICS's output format; change it whenever the output changes for the same
// inputs, so FeedETag changes with it.
const feedFormat = "phaseflow-ics-2"

// FeedETag returns a strong HTTP entity tag for RenderICS(p, opt) without rendering: a hash of
// every input the output depends on (the feed window moves only when a new cycle starts). Equal
// tags mean byte-identical feeds, so a server can answer If-None-Match before rendering.
func FeedETag(p Profile, opt FeedOptions) (string, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return "", err
	}
	var last, cycleStart string
	if p.LastPeriodDate != nil {
		today, err := Today(opt.Now, p.Timezone)
		if err != nil {
			return "", err
		}
		status, err := p.StatusOn(today)
		if err != nil {
			return "", err
		}
		last, cycleStart = p.LastPeriodDate.String(), status.CycleStart.String()
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%s\x00%s\x00%d\x00%d\x00%s\x00%s",
		feedFormat, opt.UserID, opt.CyclesBack, opt.CyclesAhead, opt.ProductID, opt.Domain,
		opt.Stamp.UTC().Unix(), p.CycleLength, last, cycleStart)
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`, nil
}

// feedSpans returns the spans of every cycle the feed shows.
func feedSpans(p Profile, opt FeedOptions) ([]Span, error) {
	if p.LastPeriodDate == nil {
		return nil, ErrNoLastPeriod
	}
	today, err := Today(opt.Now, p.Timezone)
	if err != nil {
		return nil, err
	}
	status, err := p.StatusOn(today)
	if err != nil {
		return nil, err
	}
	from := status.CycleStart.AddDays(-opt.CyclesBack * p.CycleLength)
	to := status.CycleStart.AddDays((opt.CyclesAhead + 1) * p.CycleLength)
	return p.Predict(from, to)
}

func spanEvent(s Span, cycleLength int, stamp time.Time, opt FeedOptions) *ics.VEvent {
	ev := ics.NewEvent(fmt.Sprintf("%s-%s-%s@%s", opt.UserID, s.CycleStart, s.Phase, opt.Domain))
	ev.SetDtStampTime(stamp)
	ev.SetAllDayStartAt(s.Start.In(time.UTC))
	ev.SetAllDayEndAt(s.End.In(time.UTC))
	ev.SetSummary(s.Phase.Title() + " phase")
	ev.SetDescription(describe(s, cycleLength))
	ev.SetTimeTransparency(ics.TransparencyTransparent)
	// Health data: ask apps that share or publish calendars to hide details.
	ev.SetClass(ics.ClassificationPrivate)
	return ev
}

// describe returns an event description such as "Predicted cycle days 1–5
// of 28.".
func describe(s Span, cycleLength int) string {
	first := s.Start.Sub(s.CycleStart) + 1
	last := s.End.Sub(s.CycleStart)
	if first == last {
		return fmt.Sprintf("Predicted cycle day %d of %d.", first, cycleLength)
	}
	return fmt.Sprintf("Predicted cycle days %d–%d of %d.", first, last, cycleLength)
}

// addUTCTimezone adds a minimal, valid VTIMEZONE that lets a calendar
// without events satisfy RFC 5545's "at least one component".
func addUTCTimezone(cal *ics.Calendar) {
	std := cal.AddTimezone("UTC").AddStandard()
	// DTSTART in a time zone definition is local time, without the Z.
	std.AddProperty(ics.ComponentPropertyDtStart, "19700101T000000")
	std.AddProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), "+0000")
	std.AddProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), "+0000")
	std.AddProperty(ics.ComponentProperty(ics.PropertyTzname), "UTC")
}

// maxLineOctets is RFC 5545's limit for a content line, without the CRLF.
const maxLineOctets = 75
