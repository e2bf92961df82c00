package cycle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
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

	cal := ical.NewCalendar()
	setText(cal.Props, ical.PropVersion, "2.0")
	setText(cal.Props, ical.PropProductID, opt.ProductID)
	setText(cal.Props, ical.PropCalendarScale, "GREGORIAN")
	setText(cal.Props, ical.PropName, "PhaseFlow")
	setText(cal.Props, "X-WR-CALNAME", "PhaseFlow")
	setText(cal.Props, "X-WR-CALDESC", "Estimated menstrual cycle phases. Not medical advice.")
	// RFC 7986 requires the explicit VALUE=DURATION, which go-ical's
	// SetValueType drops because DURATION is the property's default type.
	setRaw(cal.Props, ical.PropRefreshInterval, feedRefresh).Params.Set(ical.ParamValue, string(ical.ValueDuration))
	setRaw(cal.Props, "X-PUBLISHED-TTL", feedRefresh)

	stamp := opt.Stamp.UTC().Truncate(time.Second)
	for _, s := range spans {
		cal.Children = append(cal.Children, spanEvent(s, p.CycleLength, stamp, opt).Component)
	}
	if len(cal.Children) == 0 {
		cal.Children = append(cal.Children, utcTimezone())
	}

	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("failed to encode calendar: %w", err)
	}
	return foldLines(buf.Bytes()), nil
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

// feedFormat names RenderICS's output format; change it whenever the output changes for the same
// inputs, so FeedETag changes with it.
const feedFormat = "phaseflow-ics-1"

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

func spanEvent(s Span, cycleLength int, stamp time.Time, opt FeedOptions) *ical.Event {
	ev := ical.NewEvent()
	setText(ev.Props, ical.PropUID, fmt.Sprintf("%s-%s-%s@%s", opt.UserID, s.CycleStart, s.Phase, opt.Domain))
	ev.Props.SetDateTime(ical.PropDateTimeStamp, stamp)
	ev.Props.SetDate(ical.PropDateTimeStart, s.Start.In(time.UTC))
	ev.Props.SetDate(ical.PropDateTimeEnd, s.End.In(time.UTC))
	setText(ev.Props, ical.PropSummary, s.Phase.Title()+" phase")
	setText(ev.Props, ical.PropDescription, describe(s, cycleLength))
	setText(ev.Props, ical.PropTransparency, "TRANSPARENT")
	// Health data: ask apps that share or publish calendars to hide details.
	setText(ev.Props, ical.PropClass, "PRIVATE")
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

// utcTimezone is a minimal, valid VTIMEZONE that lets a calendar without
// events satisfy RFC 5545's "at least one component".
func utcTimezone() *ical.Component {
	std := ical.NewComponent(ical.CompTimezoneStandard)
	// DTSTART in a time zone definition is local time, without the Z.
	setRaw(std.Props, ical.PropDateTimeStart, "19700101T000000")
	setRaw(std.Props, ical.PropTimezoneOffsetFrom, "+0000")
	setRaw(std.Props, ical.PropTimezoneOffsetTo, "+0000")
	setText(std.Props, ical.PropTimezoneName, "UTC")
	tz := ical.NewComponent(ical.CompTimezone)
	setText(tz.Props, ical.PropTimezoneID, "UTC")
	tz.Children = append(tz.Children, std)
	return tz
}

// setText sets a TEXT property, escaped. go-ical's own SetText adds
// VALUE=TEXT to properties it does not know, although TEXT is their default.
func setText(props ical.Props, name, text string) {
	setRaw(props, name, "").SetText(text)
	props.Get(name).Params.Del(ical.ParamValue)
}

// setRaw sets a property to a value that needs no escaping and returns it.
func setRaw(props ical.Props, name, value string) *ical.Prop {
	prop := ical.NewProp(name)
	prop.Value = value
	props.Set(prop)
	return props.Get(name)
}

// maxLineOctets is RFC 5545's limit for a content line, without the CRLF.
const maxLineOctets = 75

// foldLines folds content lines longer than 75 octets, as RFC 5545 section
// 3.1 asks and go-ical does not do, never splitting a UTF-8 sequence.
func foldLines(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/maxLineOctets*3)
	for len(b) > 0 {
		line := b
		rest := []byte(nil)
		if i := bytes.Index(b, []byte("\r\n")); i >= 0 {
			line, rest = b[:i], b[i+2:]
		}
		limit := maxLineOctets
		for len(line) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			out.Write(line[:cut])
			out.WriteString("\r\n ")
			line = line[cut:]
			// The leading space of a continuation line counts too.
			limit = maxLineOctets - 1
		}
		out.Write(line)
		out.WriteString("\r\n")
		b = rest
	}
	return out.Bytes()
}
