package cycle

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func profileWith(t testing.TB, cycleLength int, last string) Profile {
	t.Helper()
	p := DefaultProfile()
	p.CycleLength = cycleLength
	if last != "" {
		d := mustDate(t, last)
		p.LastPeriodDate = &d
	}
	return p
}

// TestPhaseDaysLayout pins the documented day ranges for the shortest,
// clamped, usual and longest cycles.
func TestPhaseDaysLayout(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		cycleLength int
		want        string
	}{
		{20, "menstrual 1-5, follicular 6-6, ovulation 7-9, luteal 10-20"},
		{21, "menstrual 1-5, follicular 6-6, ovulation 7-9, luteal 10-21"},
		{22, "menstrual 1-5, follicular 6-6, ovulation 7-9, luteal 10-22"},
		{23, "menstrual 1-5, follicular 6-7, ovulation 8-10, luteal 11-23"},
		{28, "menstrual 1-5, follicular 6-12, ovulation 13-15, luteal 16-28"},
		{35, "menstrual 1-5, follicular 6-19, ovulation 20-22, luteal 23-35"},
		{60, "menstrual 1-5, follicular 6-44, ovulation 45-47, luteal 48-60"},
	}

	for _, s := range scenarios {
		t.Run(fmt.Sprintf("cycle of %d days", s.cycleLength), func(t *testing.T) {
			t.Parallel()
			ranges, err := PhaseDays(s.cycleLength)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for i, r := range ranges {
				if i > 0 {
					got += ", "
				}
				got += fmt.Sprintf("%s %d-%d", r.Phase, r.First, r.Last)
			}
			if got != s.want {
				t.Fatalf("expected %q, got %q", s.want, got)
			}
		})
	}
}

// TestPhaseDaysCoverEveryDayOnce checks every accepted cycle length, not
// only the documented examples.
func TestPhaseDaysCoverEveryDayOnce(t *testing.T) {
	t.Parallel()

	for length := MinCycleLength; length <= MaxCycleLength; length++ {
		ranges, err := PhaseDays(length)
		if err != nil {
			t.Fatalf("expected no error for %d, got %v", length, err)
		}
		if len(ranges) != len(Phases) {
			t.Fatalf("expected %d phases for %d, got %d", len(Phases), length, len(ranges))
		}
		next := 1
		for i, r := range ranges {
			if r.Phase != Phases[i] {
				t.Fatalf("expected phase %s at %d for %d, got %s", Phases[i], i, length, r.Phase)
			}
			if r.First != next || r.Last < r.First {
				t.Fatalf("expected %s of %d to start on day %d and last a day, got %d-%d", r.Phase, length, next, r.First, r.Last)
			}
			next = r.Last + 1
		}
		if next != length+1 {
			t.Fatalf("expected the phases of %d to end on day %d, got %d", length, length, next-1)
		}
		// The luteal phase is the part the model holds constant; clamping
		// may shorten it but never below 11 days.
		if luteal := ranges[3].Last - ranges[3].First + 1; luteal < 11 || luteal > 13 {
			t.Fatalf("expected a luteal phase of 11 to 13 days for %d, got %d", length, luteal)
		}
	}

	for _, length := range []int{0, -28, MinCycleLength - 1, MaxCycleLength + 1} {
		if _, err := PhaseDays(length); !errors.Is(err, ErrInvalidCycleLength) {
			t.Fatalf("expected ErrInvalidCycleLength for %d, got %v", length, err)
		}
	}
}

// TestStatusOn checks day 1, each phase boundary, the last day of a cycle,
// the next cycle, dates before the last period and a last period in the
// future, for cycles of 20, 28, 35 and 60 days.
func TestStatusOn(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name        string
		cycleLength int
		last        string
		date        string
		wantDay     int
		wantPhase   Phase
		wantStart   string
		wantNext    string
	}{
		// A 28-day cycle from March 1st: every boundary of every phase.
		{"day 1 is the last period date", 28, "2026-03-01", "2026-03-01", 1, Menstrual, "2026-03-01", "2026-03-29"},
		{"last menstrual day", 28, "2026-03-01", "2026-03-05", 5, Menstrual, "2026-03-01", "2026-03-29"},
		{"first follicular day", 28, "2026-03-01", "2026-03-06", 6, Follicular, "2026-03-01", "2026-03-29"},
		{"last follicular day", 28, "2026-03-01", "2026-03-12", 12, Follicular, "2026-03-01", "2026-03-29"},
		{"first ovulation day", 28, "2026-03-01", "2026-03-13", 13, Ovulation, "2026-03-01", "2026-03-29"},
		{"estimated ovulation day", 28, "2026-03-01", "2026-03-14", 14, Ovulation, "2026-03-01", "2026-03-29"},
		{"last ovulation day", 28, "2026-03-01", "2026-03-15", 15, Ovulation, "2026-03-01", "2026-03-29"},
		{"first luteal day", 28, "2026-03-01", "2026-03-16", 16, Luteal, "2026-03-01", "2026-03-29"},
		{"last day of the cycle", 28, "2026-03-01", "2026-03-28", 28, Luteal, "2026-03-01", "2026-03-29"},
		{"first day of the next cycle", 28, "2026-03-01", "2026-03-29", 1, Menstrual, "2026-03-29", "2026-04-26"},
		{"several cycles later", 28, "2026-03-01", "2026-06-01", 9, Follicular, "2026-05-24", "2026-06-21"},
		// Before the last period the floor-mod puts dates in earlier
		// predicted cycles; a future last period is the same case.
		{"the day before the last period", 28, "2026-03-01", "2026-02-28", 28, Luteal, "2026-02-01", "2026-03-01"},
		{"a cycle before the last period", 28, "2026-03-01", "2026-02-01", 1, Menstrual, "2026-02-01", "2026-03-01"},
		{"a last period in the future", 28, "2026-03-10", "2026-03-01", 20, Luteal, "2026-02-10", "2026-03-10"},
		{"across a leap day", 28, "2024-02-20", "2024-03-01", 11, Follicular, "2024-02-20", "2024-03-19"},
		// Short cycles use the clamped layout: 1–5, 6, 7–9, 10–20.
		{"20 days: single follicular day", 20, "2026-03-01", "2026-03-06", 6, Follicular, "2026-03-01", "2026-03-21"},
		{"20 days: ovulation starts on day 7", 20, "2026-03-01", "2026-03-07", 7, Ovulation, "2026-03-01", "2026-03-21"},
		{"20 days: luteal starts on day 10", 20, "2026-03-01", "2026-03-10", 10, Luteal, "2026-03-01", "2026-03-21"},
		{"20 days: last day", 20, "2026-03-01", "2026-03-20", 20, Luteal, "2026-03-01", "2026-03-21"},
		// Long cycles stretch the follicular phase only.
		{"35 days: last follicular day", 35, "2026-03-01", "2026-03-19", 19, Follicular, "2026-03-01", "2026-04-05"},
		{"35 days: first ovulation day", 35, "2026-03-01", "2026-03-20", 20, Ovulation, "2026-03-01", "2026-04-05"},
		{"35 days: first luteal day", 35, "2026-03-01", "2026-03-23", 23, Luteal, "2026-03-01", "2026-04-05"},
		{"60 days: first ovulation day", 60, "2026-01-01", "2026-02-14", 45, Ovulation, "2026-01-01", "2026-03-02"},
		{"60 days: last day", 60, "2026-01-01", "2026-03-01", 60, Luteal, "2026-01-01", "2026-03-02"},
		{"60 days: next cycle", 60, "2026-01-01", "2026-03-02", 1, Menstrual, "2026-03-02", "2026-05-01"},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			p := profileWith(t, s.cycleLength, s.last)
			got, err := p.StatusOn(mustDate(t, s.date))
			if err != nil {
				t.Fatal(err)
			}
			want := Status{
				Date:       mustDate(t, s.date),
				CycleDay:   s.wantDay,
				Phase:      s.wantPhase,
				CycleStart: mustDate(t, s.wantStart),
				NextPeriod: mustDate(t, s.wantNext),
			}
			if got != want {
				t.Fatalf("expected %+v, got %+v", want, got)
			}
		})
	}
}

// TestStatusOnErrors checks the profiles no estimate can be made for.
func TestStatusOnErrors(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name    string
		profile Profile
		date    Date
		want    error
	}{
		{"no last period", profileWith(t, 28, ""), Date{2026, time.March, 1}, ErrNoLastPeriod},
		{"cycle too short", profileWith(t, 19, "2026-03-01"), Date{2026, time.March, 1}, ErrInvalidCycleLength},
		{"zero cycle length would divide by zero", profileWith(t, 0, "2026-03-01"), Date{2026, time.March, 1}, ErrInvalidCycleLength},
		{"cycle too long", profileWith(t, 61, "2026-03-01"), Date{2026, time.March, 1}, ErrInvalidCycleLength},
		{"impossible date", profileWith(t, 28, "2026-03-01"), Date{2026, time.February, 30}, ErrInvalidDate},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if _, err := s.profile.StatusOn(s.date); !errors.Is(err, s.want) {
				t.Fatalf("expected %v, got %v", s.want, err)
			}
		})
	}
}

// TestStatusOnDayByDay walks every day of several cycles, before and after
// the last period, and checks that the day count, phases and next period
// move as a regular cycle would.
func TestStatusOnDayByDay(t *testing.T) {
	t.Parallel()

	for _, length := range []int{20, 28, 35, 60} {
		t.Run(fmt.Sprintf("cycle of %d days", length), func(t *testing.T) {
			t.Parallel()
			p := profileWith(t, length, "2026-03-01")
			first := p.LastPeriodDate.AddDays(-2 * length)
			prev, err := p.StatusOn(first.AddDays(-1))
			if err != nil {
				t.Fatal(err)
			}
			phaseIndex := map[Phase]int{Menstrual: 0, Follicular: 1, Ovulation: 2, Luteal: 3}
			seen := map[Phase]int{}
			for d := first; d.Before(p.LastPeriodDate.AddDays(3 * length)); d = d.AddDays(1) {
				got, err := p.StatusOn(d)
				if err != nil {
					t.Fatal(err)
				}
				wantDay := prev.CycleDay%length + 1
				if got.CycleDay != wantDay {
					t.Fatalf("expected day %d on %v, got %d", wantDay, d, got.CycleDay)
				}
				if got.CycleStart != d.AddDays(1-got.CycleDay) || got.NextPeriod != got.CycleStart.AddDays(length) {
					t.Fatalf("expected cycle start %v and next period %v, got %+v", d.AddDays(1-got.CycleDay), got.CycleStart.AddDays(length), got)
				}
				if (got.CycleStart.Sub(*p.LastPeriodDate))%length != 0 {
					t.Fatalf("expected cycle starts a multiple of %d days from the last period, got %v", length, got.CycleStart)
				}
				// Within a cycle the phase never goes back; a new cycle
				// starts with menstruation.
				if got.CycleDay == 1 {
					if got.Phase != Menstrual {
						t.Fatalf("expected day 1 to be menstrual, got %s", got.Phase)
					}
				} else if step := phaseIndex[got.Phase] - phaseIndex[prev.Phase]; step != 0 && step != 1 {
					t.Fatalf("expected %s to follow %s on %v, got a step of %d", got.Phase, prev.Phase, d, step)
				}
				seen[got.Phase]++
				prev = got
			}
			// Five whole cycles were walked, so each phase was seen five
			// times its length: no day was skipped or counted twice.
			ranges, _ := PhaseDays(length)
			for _, r := range ranges {
				if days := r.Last - r.First + 1; seen[r.Phase] != 5*days {
					t.Fatalf("expected %d %s days, got %d", 5*days, r.Phase, seen[r.Phase])
				}
			}
		})
	}
}

// TestPredict checks which spans a range selects: whole spans, End
// exclusive, and none for an empty range.
func TestPredict(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name        string
		cycleLength int
		last        string
		from, to    string
		wantSpans   int
		wantFirst   string // "phase start end"
	}{
		{"one cycle exactly", 28, "2026-03-01", "2026-03-01", "2026-03-29", 4, "menstrual 2026-03-01 2026-03-06"},
		{"range starting mid-phase keeps the whole span", 28, "2026-03-01", "2026-03-03", "2026-03-04", 1, "menstrual 2026-03-01 2026-03-06"},
		{"range ending on a span start excludes it", 28, "2026-03-01", "2026-03-01", "2026-03-06", 1, "menstrual 2026-03-01 2026-03-06"},
		{"range before the last period", 28, "2026-03-01", "2026-02-01", "2026-03-01", 4, "menstrual 2026-02-01 2026-02-06"},
		{"three cycles of 20 days", 20, "2026-03-01", "2026-03-01", "2026-04-30", 12, "menstrual 2026-03-01 2026-03-06"},
		{"60-day cycle across a year end", 60, "2025-12-01", "2025-12-25", "2026-01-05", 1, "follicular 2025-12-06 2026-01-14"},
		{"empty range", 28, "2026-03-01", "2026-03-10", "2026-03-10", 0, ""},
		{"reversed range", 28, "2026-03-01", "2026-03-10", "2026-03-01", 0, ""},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			p := profileWith(t, s.cycleLength, s.last)
			from, to := mustDate(t, s.from), mustDate(t, s.to)
			spans, err := p.Predict(from, to)
			if err != nil {
				t.Fatal(err)
			}
			if len(spans) != s.wantSpans {
				t.Fatalf("expected %d spans, got %d: %v", s.wantSpans, len(spans), spans)
			}
			if len(spans) > 0 {
				got := fmt.Sprintf("%s %s %s", spans[0].Phase, spans[0].Start, spans[0].End)
				if got != s.wantFirst {
					t.Fatalf("expected %q, got %q", s.wantFirst, got)
				}
			}
			checkSpans(t, p, from, to, spans)
		})
	}
}

// checkSpans checks that spans are contiguous, do not overlap, cover
// [from, to), and agree with StatusOn on every day.
func checkSpans(t *testing.T, p Profile, from, to Date, spans []Span) {
	t.Helper()
	for i, s := range spans {
		if !s.Start.Before(s.End) {
			t.Fatalf("expected a non-empty span, got %+v", s)
		}
		if !s.End.After(from) || !s.Start.Before(to) {
			t.Fatalf("expected span %+v to overlap %v to %v", s, from, to)
		}
		if i > 0 && spans[i-1].End != s.Start {
			t.Fatalf("expected span %d to start at %v, got %v", i, spans[i-1].End, s.Start)
		}
		for d := s.Start; d.Before(s.End); d = d.AddDays(1) {
			st, err := p.StatusOn(d)
			if err != nil {
				t.Fatal(err)
			}
			if st.Phase != s.Phase || st.CycleStart != s.CycleStart {
				t.Fatalf("expected %s of the cycle from %v on %v, got %+v", s.Phase, s.CycleStart, d, st)
			}
		}
	}
	if len(spans) > 0 && (spans[0].Start.After(from) || spans[len(spans)-1].End.Before(to)) {
		t.Fatalf("expected spans to cover %v to %v, got %v to %v", from, to, spans[0].Start, spans[len(spans)-1].End)
	}
}

// TestPredictErrors checks Predict's refusals, including the range limit
// that keeps a request from allocating without bound.
func TestPredictErrors(t *testing.T) {
	t.Parallel()

	from := Date{2026, time.January, 1}
	scenarios := []struct {
		name    string
		profile Profile
		to      Date
		want    error
	}{
		{"no last period", profileWith(t, 28, ""), from.AddDays(30), ErrNoLastPeriod},
		{"invalid cycle length", profileWith(t, 10, "2026-01-01"), from.AddDays(30), ErrInvalidCycleLength},
		{"range too long", profileWith(t, 28, "2026-01-01"), from.AddDays(MaxPredictDays + 1), ErrRangeTooLong},
		{"invalid end", profileWith(t, 28, "2026-01-01"), Date{}, ErrInvalidDate},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if _, err := s.profile.Predict(from, s.to); !errors.Is(err, s.want) {
				t.Fatalf("expected %v, got %v", s.want, err)
			}
		})
	}

	spans, err := profileWith(t, 28, "2026-01-01").Predict(from, from.AddDays(MaxPredictDays))
	if err != nil || len(spans) == 0 {
		t.Fatalf("expected spans for the longest range, got %d (%v)", len(spans), err)
	}
}
