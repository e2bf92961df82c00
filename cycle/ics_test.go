package cycle

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	arran "github.com/arran4/golang-ical"
	ical "github.com/emersion/go-ical"
)

// feedEvent is what both parsers must agree an event says.
type feedEvent struct {
	UID, Summary, Description string
	Start, End                Date
}

// parseEmersion decodes a feed with emersion/go-ical, an independent parser.
func parseEmersion(t *testing.T, feed []byte) (*ical.Calendar, []feedEvent) {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(feed)).Decode()
	if err != nil {
		t.Fatalf("expected go-ical to decode the feed, got %v", err)
	}
	var events []feedEvent
	for _, ev := range cal.Events() {
		start, err := ev.DateTimeStart(time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		end, err := ev.DateTimeEnd(time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{ical.PropDateTimeStart, ical.PropDateTimeEnd} {
			if got := ev.Props.Get(name).ValueType(); got != ical.ValueDate {
				t.Fatalf("expected %s to be a DATE, got %s", name, got)
			}
		}
		text := func(name string) string {
			s, err := ev.Props.Text(name)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if text(ical.PropTransparency) != "TRANSPARENT" {
			t.Fatalf("expected TRANSP:TRANSPARENT, got %q", text(ical.PropTransparency))
		}
		events = append(events, feedEvent{
			UID:         text(ical.PropUID),
			Summary:     text(ical.PropSummary),
			Description: text(ical.PropDescription),
			Start:       DateOf(start),
			End:         DateOf(end),
		})
	}
	return cal, events
}

// parseArran decodes a feed with arran4/golang-ical, the library that
// encoded it. Its parser already unescapes TEXT values, so they are read as
// they are.
func parseArran(t *testing.T, feed []byte) []feedEvent {
	t.Helper()
	cal, err := arran.ParseCalendar(bytes.NewReader(feed))
	if err != nil {
		t.Fatalf("expected golang-ical to parse the feed, got %v", err)
	}
	var events []feedEvent
	for _, ev := range cal.Events() {
		start, err := ev.GetAllDayStartAt()
		if err != nil {
			t.Fatal(err)
		}
		end, err := ev.GetAllDayEndAt()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, feedEvent{
			UID:         ev.GetProperty(arran.ComponentPropertyUniqueId).Value,
			Summary:     ev.GetProperty(arran.ComponentPropertySummary).Value,
			Description: ev.GetProperty(arran.ComponentPropertyDescription).Value,
			Start:       DateOf(start),
			End:         DateOf(end),
		})
	}
	return events
}

func render(t *testing.T, p Profile, opt FeedOptions) []byte {
	t.Helper()
	feed, err := RenderICS(p, opt)
	if err != nil {
		t.Fatalf("expected a feed, got %v", err)
	}
	return feed
}

// TestRenderICS reads a whole feed back with both parsers and checks the
// events against Predict, the UIDs, the DTSTAMP and the calendar properties
// that make subscribed calendar apps refresh twice a day.
func TestRenderICS(t *testing.T) {
	t.Parallel()

	p := profileWith(t, 28, "2026-02-10")
	p.Timezone = "Europe/Berlin"
	opt := FeedOptions{
		UserID: "u1a2b3c4d5e6f7g",
		Now:    mustTime(t, "2026-03-01T12:00:00Z"),
		Stamp:  mustTime(t, "2026-02-10T09:15:30+01:00"),
		Domain: "phaseflow.example.com",
	}
	feed := render(t, p, opt)

	cal, events := parseEmersion(t, feed)
	if other := parseArran(t, feed); len(other) != len(events) {
		t.Fatalf("expected golang-ical to see %d events, got %d", len(events), len(other))
	} else {
		for i := range events {
			if other[i] != events[i] {
				t.Fatalf("expected golang-ical to read %+v, got %+v", events[i], other[i])
			}
		}
	}

	// Today (March 1st) is day 20 of the cycle from February 10th; the
	// feed holds 3 cycles before it, it, and 6 after: 10 cycles.
	if len(events) != 40 {
		t.Fatalf("expected 40 events, got %d", len(events))
	}
	firstCycle := mustDate(t, "2026-02-10").AddDays(-3 * 28)
	if events[0].Start != firstCycle || events[len(events)-1].End != mustDate(t, "2026-02-10").AddDays(7*28) {
		t.Fatalf("expected events from %v to %v, got %v to %v", firstCycle, mustDate(t, "2026-02-10").AddDays(7*28), events[0].Start, events[len(events)-1].End)
	}
	spans, err := p.Predict(firstCycle, firstCycle.AddDays(10*28))
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for i, ev := range events {
		if ev.Start != spans[i].Start || ev.End != spans[i].End {
			t.Fatalf("expected event %d from %v to %v, got %v to %v", i, spans[i].Start, spans[i].End, ev.Start, ev.End)
		}
		if want := spans[i].Phase.Title() + " phase"; ev.Summary != want {
			t.Fatalf("expected %q, got %q", want, ev.Summary)
		}
		if uids[ev.UID] {
			t.Fatalf("expected unique UIDs, got %s twice", ev.UID)
		}
		uids[ev.UID] = true
	}

	// Events 12 to 15 are the current cycle; 15 is its luteal phase,
	// which contains March 1st.
	current := feedEvent{
		UID:         "u1a2b3c4d5e6f7g-2026-02-10-luteal@phaseflow.example.com",
		Summary:     "Luteal phase",
		Description: "Predicted cycle days 16–28 of 28.",
		Start:       mustDate(t, "2026-02-25"),
		End:         mustDate(t, "2026-03-10"),
	}
	if events[15] != current {
		t.Fatalf("expected %+v, got %+v", current, events[15])
	}
	if events[12].Description != "Predicted cycle days 1–5 of 28." {
		t.Fatalf("expected %q, got %q", "Predicted cycle days 1–5 of 28.", events[12].Description)
	}

	for _, ev := range cal.Events() {
		stamp, err := ev.Props.DateTime(ical.PropDateTimeStamp, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := "20260210T081530Z"; ev.Props.Get(ical.PropDateTimeStamp).Value != want || !stamp.Equal(opt.Stamp) {
			t.Fatalf("expected DTSTAMP %s, got %s", want, ev.Props.Get(ical.PropDateTimeStamp).Value)
		}
	}

	// Both refresh hints: REFRESH-INTERVAL from RFC 7986 and
	// X-PUBLISHED-TTL, the older non-standard name some clients still read.
	wantProps := map[string]string{
		ical.PropVersion:         "2.0",
		ical.PropProductID:       DefaultProductID,
		ical.PropCalendarScale:   "GREGORIAN",
		"X-WR-CALNAME":           "PhaseFlow",
		ical.PropRefreshInterval: "PT12H",
		"X-PUBLISHED-TTL":        "PT12H",
	}
	for name, want := range wantProps {
		if prop := cal.Props.Get(name); prop == nil || prop.Value != want {
			t.Fatalf("expected %s:%s, got %+v", name, want, prop)
		}
	}
	if got := cal.Props.Get(ical.PropRefreshInterval).Params.Get(ical.ParamValue); got != "DURATION" {
		t.Fatalf("expected REFRESH-INTERVAL;VALUE=DURATION, got VALUE=%q", got)
	}
	if !bytes.Contains(feed, []byte("\r\nREFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n")) {
		t.Fatalf("expected the literal REFRESH-INTERVAL line in\n%s", feed)
	}
	checkLines(t, feed)
}

// checkLines checks RFC 5545's line rules: CRLF endings, at most 75 octets,
// and no UTF-8 sequence split by folding.
func checkLines(t *testing.T, feed []byte) {
	t.Helper()
	if !bytes.HasSuffix(feed, []byte("END:VCALENDAR\r\n")) {
		t.Fatalf("expected the feed to end with END:VCALENDAR and CRLF")
	}
	if bytes.Count(feed, []byte("\n")) != bytes.Count(feed, []byte("\r\n")) {
		t.Fatalf("expected every line to end with CRLF")
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(feed), "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Fatalf("expected lines of at most 75 octets, got %d: %q", len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Fatalf("expected whole UTF-8 sequences on each line, got %q", line)
		}
	}
}

// TestRenderICSIsDeterministic checks byte-identical output for the same
// inputs, since calendar apps and HTTP caches compare feeds, and stable UIDs
// when the window moves on.
func TestRenderICSIsDeterministic(t *testing.T) {
	t.Parallel()

	p := profileWith(t, 31, "2026-01-20")
	opt := FeedOptions{UserID: "user1", Now: mustTime(t, "2026-03-01T08:00:00Z"), Stamp: mustTime(t, "2026-01-20T10:00:00Z")}
	first := render(t, p, opt)
	if second := render(t, p, opt); !bytes.Equal(first, second) {
		t.Fatalf("expected identical output, got\n%s\nand\n%s", first, second)
	}
	// Only the date of Now matters.
	opt.Now = mustTime(t, "2026-03-01T20:00:00Z")
	if later := render(t, p, opt); !bytes.Equal(first, later) {
		t.Fatalf("expected identical output later the same day, got\n%s\nand\n%s", first, later)
	}

	// A cycle later the window moves by one cycle; the cycles both
	// renders show keep their UIDs, so calendar apps update them.
	opt.Now = opt.Now.AddDate(0, 0, 31)
	_, before := parseEmersion(t, first)
	_, after := parseEmersion(t, render(t, p, opt))
	for i := 4; i < len(before); i++ {
		if before[i] != after[i-4] {
			t.Fatalf("expected event %d to stay %+v, got %+v", i, before[i], after[i-4])
		}
	}
}

// TestRenderICSUsesTheProfileTimeZone checks that the current cycle is
// chosen by the date in the person's zone, not in UTC.
func TestRenderICSUsesTheProfileTimeZone(t *testing.T) {
	t.Parallel()

	// 23:30 UTC on March 1st is March 2nd in Auckland, the first day of a
	// new cycle there, so the feed's window starts one cycle later.
	now := mustTime(t, "2026-03-01T23:30:00Z")
	utc := profileWith(t, 28, "2026-02-02")
	auckland := utc
	auckland.Timezone = "Pacific/Auckland"

	_, inUTC := parseEmersion(t, render(t, utc, FeedOptions{UserID: "u", Now: now, CyclesBack: 1, CyclesAhead: 1}))
	_, inAuckland := parseEmersion(t, render(t, auckland, FeedOptions{UserID: "u", Now: now, CyclesBack: 1, CyclesAhead: 1}))
	if want := mustDate(t, "2026-01-05"); inUTC[0].Start != want {
		t.Fatalf("expected the UTC feed to start on %v, got %v", want, inUTC[0].Start)
	}
	if want := mustDate(t, "2026-02-02"); inAuckland[0].Start != want {
		t.Fatalf("expected the Auckland feed to start on %v, got %v", want, inAuckland[0].Start)
	}
	if len(inUTC) != 12 || len(inAuckland) != 12 {
		t.Fatalf("expected 12 events each, got %d and %d", len(inUTC), len(inAuckland))
	}
}

// TestRenderICSShortCycle checks the clamped 20-day layout in a feed: the
// one-day follicular phase still gets its own event.
func TestRenderICSShortCycle(t *testing.T) {
	t.Parallel()

	p := profileWith(t, 20, "2026-02-20")
	_, events := parseEmersion(t, render(t, p, FeedOptions{UserID: "u", Now: mustTime(t, "2026-03-01T12:00:00Z"), CyclesBack: 1, CyclesAhead: 1}))
	// One cycle back, the current one from February 20th (events 4 to
	// 7), one ahead.
	if len(events) != 12 {
		t.Fatalf("expected 12 events, got %d", len(events))
	}
	follicular := feedEvent{
		UID:         "u-2026-02-20-follicular@phaseflow",
		Summary:     "Follicular phase",
		Description: "Predicted cycle day 6 of 20.",
		Start:       mustDate(t, "2026-02-25"),
		End:         mustDate(t, "2026-02-26"),
	}
	if events[5] != follicular {
		t.Fatalf("expected %+v, got %+v", follicular, events[5])
	}
	for i := 1; i < len(events); i++ {
		if events[i].Start != events[i-1].End {
			t.Fatalf("expected contiguous events, got a gap before %+v", events[i])
		}
	}
}

// TestRenderICSWithoutLastPeriod checks that a profile without a last period
// gives a valid calendar with no events rather than an error.
func TestRenderICSWithoutLastPeriod(t *testing.T) {
	t.Parallel()

	feed := render(t, DefaultProfile(), FeedOptions{UserID: "u", Now: mustTime(t, "2026-03-01T12:00:00Z")})
	cal, events := parseEmersion(t, feed)
	if len(events) != 0 || len(parseArran(t, feed)) != 0 {
		t.Fatalf("expected no events, got %d", len(events))
	}
	if cal.Props.Get("X-WR-CALNAME") == nil || cal.Props.Get(ical.PropProductID) == nil {
		t.Fatalf("expected the calendar properties, got %v", cal.Props)
	}
	// RFC 5545 wants at least one component.
	if len(cal.Children) != 1 || cal.Children[0].Name != ical.CompTimezone {
		t.Fatalf("expected one VTIMEZONE, got %d components", len(cal.Children))
	}
	checkLines(t, feed)
}

// TestRenderICSFoldsLongLines checks RFC 5545 folding of lines over 75
// octets: a long UID without spaces, and product IDs of multi-byte characters
// whose 75th octet falls inside a character, with and without spaces. Every
// line must stay within 75 octets and whole UTF-8 sequences, and both parsers
// must unfold each value to what was rendered.
func TestRenderICSFoldsLongLines(t *testing.T) {
	t.Parallel()

	p := profileWith(t, 28, "2026-02-10")
	domain := strings.Repeat("sub.", 20) + "bücher.example"
	scenarios := []struct {
		name      string
		productID string
	}{
		{"two-byte letters without spaces", "-//" + strings.Repeat("ä", 60) + "//DE"},
		{"words with two-byte letters", "-//Zyklus-Kalender für Ärztinnen und Ärzte//" + strings.Repeat("äöü", 20) + "//DE"},
		{"three- and four-byte characters", "-//" + strings.Repeat("–🌙", 20) + "//EN"},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			// The premise: cutting the line at 75 octets would split a
			// character, so only a UTF-8-aware fold passes checkLines.
			if line := "PRODID:" + s.productID; utf8.RuneStart(line[maxLineOctets]) {
				t.Fatalf("expected octet 75 of %q to be inside a character", line)
			}
			feed := render(t, p, FeedOptions{
				UserID: "u", Now: mustTime(t, "2026-03-01T12:00:00Z"),
				CyclesBack: 1, CyclesAhead: 1, ProductID: s.productID, Domain: domain,
			})
			checkLines(t, feed)
			if !bytes.Contains(feed, []byte("\r\n ")) {
				t.Fatalf("expected folded lines in\n%s", feed)
			}

			cal, emersionEvents := parseEmersion(t, feed)
			if got, err := cal.Props.Text(ical.PropProductID); err != nil || got != s.productID {
				t.Fatalf("expected go-ical to unfold PRODID %q, got %q (%v)", s.productID, got, err)
			}
			if got := arranProp(t, feed, arran.PropertyProductId); got != s.productID {
				t.Fatalf("expected golang-ical to unfold PRODID %q, got %q", s.productID, got)
			}
			want := "u-2026-02-10-menstrual@" + domain
			if len("UID:"+want) <= maxLineOctets {
				t.Fatalf("expected the UID line to need folding, got %d octets", len("UID:"+want))
			}
			for name, events := range map[string][]feedEvent{"go-ical": emersionEvents, "golang-ical": parseArran(t, feed)} {
				found := false
				for _, ev := range events {
					found = found || ev.UID == want
				}
				if !found {
					t.Fatalf("expected %s to unfold the UID %s", name, want)
				}
			}
		})
	}
}

// arranProp returns the value of the calendar property name as golang-ical
// parses it, failing the test unless it occurs exactly once.
func arranProp(t *testing.T, feed []byte, name arran.Property) string {
	t.Helper()
	cal, err := arran.ParseCalendar(bytes.NewReader(feed))
	if err != nil {
		t.Fatalf("expected golang-ical to parse the feed, got %v", err)
	}
	var values []string
	for _, prop := range cal.CalendarProperties {
		if prop.IANAToken == string(name) {
			values = append(values, prop.Value)
		}
	}
	if len(values) != 1 {
		t.Fatalf("expected one %s, got %q", name, values)
	}
	return values[0]
}

// feedHeader is the calendar part of every feed with the default options, in
// the order golang-ical writes it: only what RenderICS sets, so neither
// golang-ical's own default PRODID nor a METHOD.
const feedHeader = "BEGIN:VCALENDAR\r\n" +
	"VERSION:2.0\r\n" +
	"PRODID:-//PhaseFlow//PhaseFlow Calendar//EN\r\n" +
	"CALSCALE:GREGORIAN\r\n" +
	"NAME:PhaseFlow\r\n" +
	"X-WR-CALNAME:PhaseFlow\r\n" +
	"X-WR-CALDESC:Estimated menstrual cycle phases. Not medical advice.\r\n" +
	"REFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n" +
	"X-PUBLISHED-TTL:PT12H\r\n"

// TestRenderICSExactOutput pins the bytes of a feed without events and of the
// start of a feed with events, so a change of library or of its version that
// changes the output shows here (and feedFormat must change with it).
func TestRenderICSExactOutput(t *testing.T) {
	t.Parallel()

	now := mustTime(t, "2026-03-01T12:00:00Z")
	empty := feedHeader +
		"BEGIN:VTIMEZONE\r\n" +
		"TZID:UTC\r\n" +
		"BEGIN:STANDARD\r\n" +
		"DTSTART:19700101T000000\r\n" +
		"TZOFFSETFROM:+0000\r\n" +
		"TZOFFSETTO:+0000\r\n" +
		"TZNAME:UTC\r\n" +
		"END:STANDARD\r\n" +
		"END:VTIMEZONE\r\n" +
		"END:VCALENDAR\r\n"
	if got := string(render(t, DefaultProfile(), FeedOptions{UserID: "u", Now: now})); got != empty {
		t.Fatalf("expected\n%s\ngot\n%s", empty, got)
	}

	firstEvent := feedHeader +
		"BEGIN:VEVENT\r\n" +
		"UID:u1-2026-01-13-menstrual@phaseflow\r\n" +
		"DTSTAMP:20260210T081530Z\r\n" +
		"DTSTART;VALUE=DATE:20260113\r\n" +
		"DTEND;VALUE=DATE:20260118\r\n" +
		"SUMMARY:Menstrual phase\r\n" +
		"DESCRIPTION:Predicted cycle days 1–5 of 28.\r\n" +
		"TRANSP:TRANSPARENT\r\n" +
		"CLASS:PRIVATE\r\n" +
		"END:VEVENT\r\n" +
		"BEGIN:VEVENT\r\n"
	feed := render(t, profileWith(t, 28, "2026-02-10"), FeedOptions{
		UserID: "u1", Now: now, Stamp: mustTime(t, "2026-02-10T08:15:30Z"), CyclesBack: 1, CyclesAhead: 1,
	})
	if got := string(feed[:min(len(feed), len(firstEvent))]); got != firstEvent {
		t.Fatalf("expected the feed to start with\n%s\ngot\n%s", firstEvent, got)
	}
}

// TestRenderICSEscapesText checks that iCalendar's special characters in the
// options are escaped as TEXT and read back unchanged by both parsers.
func TestRenderICSEscapesText(t *testing.T) {
	t.Parallel()

	productID := `-//A, B; C\D: E//EN`
	feed := render(t, profileWith(t, 28, "2026-02-10"), FeedOptions{
		UserID: "u,x;y", Now: mustTime(t, "2026-03-01T12:00:00Z"), CyclesBack: 1, CyclesAhead: 1, ProductID: productID,
	})
	for _, line := range []string{`PRODID:-//A\, B\; C\\D: E//EN`, `UID:u\,x\;y-2026-01-13-menstrual@phaseflow`} {
		if !bytes.Contains(feed, []byte("\r\n"+line+"\r\n")) {
			t.Fatalf("expected the line %s in\n%s", line, feed)
		}
	}
	cal, events := parseEmersion(t, feed)
	if got, err := cal.Props.Text(ical.PropProductID); err != nil || got != productID {
		t.Fatalf("expected go-ical to read PRODID %q, got %q (%v)", productID, got, err)
	}
	if got := arranProp(t, feed, arran.PropertyProductId); got != productID {
		t.Fatalf("expected golang-ical to read PRODID %q, got %q", productID, got)
	}
	want := "u,x;y-2026-01-13-menstrual@phaseflow"
	if events[0].UID != want || parseArran(t, feed)[0].UID != want {
		t.Fatalf("expected both parsers to read the UID %q, got %q and %q", want, events[0].UID, parseArran(t, feed)[0].UID)
	}
}

// TestRenderICSErrors checks that bad options and an unusable profile are
// errors, never a half-written feed.
func TestRenderICSErrors(t *testing.T) {
	t.Parallel()

	now := mustTime(t, "2026-03-01T12:00:00Z")
	valid := profileWith(t, 28, "2026-02-10")
	badZone := valid
	badZone.Timezone = "Nowhere/Land"

	scenarios := []struct {
		name    string
		profile Profile
		opt     FeedOptions
	}{
		{"no user id", valid, FeedOptions{Now: now}},
		{"no now", valid, FeedOptions{UserID: "u"}},
		{"negative cycles back", valid, FeedOptions{UserID: "u", Now: now, CyclesBack: -1}},
		{"too many cycles ahead", valid, FeedOptions{UserID: "u", Now: now, CyclesAhead: MaxFeedCycles + 1}},
		{"invalid cycle length", profileWith(t, 100, "2026-02-10"), FeedOptions{UserID: "u", Now: now}},
		{"invalid time zone", badZone, FeedOptions{UserID: "u", Now: now}},
		{"line break in the product id", valid, FeedOptions{UserID: "u", Now: now, ProductID: "a\r\nBEGIN:VEVENT"}},
		{"carriage return in the user id", valid, FeedOptions{UserID: "u\rX-INJECTED:1", Now: now}},
		{"line feed in the domain", valid, FeedOptions{UserID: "u", Now: now, Domain: "a\nb"}},
		{"tab in the domain", valid, FeedOptions{UserID: "u", Now: now, Domain: "a\tb"}},
		{"invalid UTF-8 in the product id", valid, FeedOptions{UserID: "u", Now: now, ProductID: "-//\xff//EN"}},
		// Without a last period the feed has no events, but the options
		// are checked all the same.
		{"line break in the product id without events", DefaultProfile(), FeedOptions{UserID: "u", Now: now, ProductID: "a\r\nb"}},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if feed, err := RenderICS(s.profile, s.opt); err == nil {
				t.Fatalf("expected an error, got\n%s", feed)
			}
		})
	}
}

func TestFeedETag(t *testing.T) {
	t.Parallel()
	last := Date{2026, time.October, 20}
	base := Profile{CycleLength: 28, LastPeriodDate: &last, Timezone: "Europe/Berlin"}
	opt := FeedOptions{UserID: "abc", Now: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC), Stamp: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	tag := func(p Profile, o FeedOptions) string {
		t.Helper()
		s, err := FeedETag(p, o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	render := func(p Profile, o FeedOptions) string {
		t.Helper()
		b, err := RenderICS(p, o)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := tag(base, opt)

	t.Run("the same cycle gives the same tag and the same bytes", func(t *testing.T) {
		later := opt
		later.Now = opt.Now.AddDate(0, 0, 10) // 11-12: still the cycle that started 10-20 (next: 11-17)
		if got := tag(base, later); got != want {
			t.Fatalf("expected %s within the cycle, got %s", want, got)
		}
		if render(base, later) != render(base, opt) {
			t.Fatal("equal tags but different bytes")
		}
	})
	newLast := Date{2026, time.October, 21}
	changes := []struct {
		name string
		p    Profile
		o    FeedOptions
	}{
		{"a new cycle starts", base, FeedOptions{UserID: "abc", Now: opt.Now.AddDate(0, 0, 20), Stamp: opt.Stamp}},
		{"another cycle length", Profile{CycleLength: 30, LastPeriodDate: &last, Timezone: "Europe/Berlin"}, opt},
		{"another last period", Profile{CycleLength: 28, LastPeriodDate: &newLast, Timezone: "Europe/Berlin"}, opt},
		{"no last period", Profile{CycleLength: 28, Timezone: "Europe/Berlin"}, opt},
		{"another user", base, FeedOptions{UserID: "abd", Now: opt.Now, Stamp: opt.Stamp}},
		{"another stamp", base, FeedOptions{UserID: "abc", Now: opt.Now, Stamp: opt.Stamp.Add(time.Second)}},
		{"another domain", base, FeedOptions{UserID: "abc", Now: opt.Now, Stamp: opt.Stamp, Domain: "x.example"}},
	}
	for _, c := range changes {
		t.Run(c.name+" changes the tag and the bytes", func(t *testing.T) {
			if tag(c.p, c.o) == want {
				t.Fatal("expected a different tag")
			}
			if render(c.p, c.o) == render(base, opt) {
				t.Fatal("the test input does not change the feed")
			}
		})
	}
}
