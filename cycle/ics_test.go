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

// parseEmersion decodes a feed with go-ical, the library that encoded it.
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

// parseArran decodes a feed with arran4/golang-ical, an independent parser.
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
			UID:         ev.Id(),
			Summary:     arran.FromText(ev.GetProperty(arran.ComponentPropertySummary).Value),
			Description: arran.FromText(ev.GetProperty(arran.ComponentPropertyDescription).Value),
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

// TestRenderICSFoldsLongLines checks that long UIDs and multi-byte text are
// folded at 75 octets and that both parsers unfold them.
func TestRenderICSFoldsLongLines(t *testing.T) {
	t.Parallel()

	p := profileWith(t, 28, "2026-02-10")
	// Both a long ASCII UID and a PRODID whose two-byte letters straddle
	// the 75-octet boundary.
	domain := strings.Repeat("sub.", 20) + "example.com"
	feed := render(t, p, FeedOptions{
		UserID:    "u",
		Now:       mustTime(t, "2026-03-01T12:00:00Z"),
		ProductID: "-//Zyklus-Kalender für Ärztinnen und Ärzte//" + strings.Repeat("äöü", 20) + "//DE",
		Domain:    domain,
	})
	checkLines(t, feed)
	want := "u-2026-02-10-menstrual@" + domain
	for name, events := range map[string][]feedEvent{"go-ical": func() []feedEvent { _, e := parseEmersion(t, feed); return e }(), "golang-ical": parseArran(t, feed)} {
		found := false
		for _, ev := range events {
			found = found || ev.UID == want
		}
		if !found {
			t.Fatalf("expected %s to unfold the UID %s", name, want)
		}
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
