// Package cycle estimates which phase of the menstrual cycle a person is in.
//
// It is PhaseFlow's domain: plain Go with no framework imports, so the rules
// are tested here without an app, and the HTTP layer only maps records to a
// Profile and back.
//
// # Model
//
// The estimate needs two numbers: the cycle length L in days
// (MinCycleLength to MaxCycleLength) and the date the last period started.
// Every cycle is assumed to last exactly L days, so cycle k starts L*k days
// after the last period, for any whole k, negative included. The cycle day of
// a date is the floor-mod of the days since the last period, plus one: the
// last period's start is day 1, the day before it is day L of the previous
// predicted cycle. Dates before the last period (and a last period that
// lies in the future) therefore fall in earlier predicted cycles instead of
// failing. Dates are plain calendar dates (Date); which date is "today"
// comes from the profile's IANA time zone, never the server's.
//
// Within a cycle of L days the phases are, by cycle day:
//
//   - menstrual: days 1 to 5;
//   - ovulation: a three-day window around day O, days O-1 to O+1, where
//     O = L-14 because the luteal phase is assumed to last 14 days;
//   - follicular: the days between menstruation and the window;
//   - luteal: from the day after the window to day L.
//
// For L = 28 that is menstrual 1–5, follicular 6–12, ovulation 13–15 and
// luteal 16–28; for L = 35 it is 1–5, 6–19, 20–22, 23–35; for L = 60 it is
// 1–5, 6–44, 45–47, 48–60.
//
// Below L = 22 the rule breaks down: for L = 21 the follicular phase would
// vanish, and for L = 20 the window (days 5–7) would overlap menstruation.
// The window is therefore clamped to start no earlier than day 7, so the
// follicular phase keeps at least one day and every cycle has all four
// phases in order, without overlap: for L = 20 the phases are 1–5, 6, 7–9
// and 10–20, for L = 21 1–5, 6, 7–9 and 10–21, and for L = 22 (unclamped)
// 1–5, 6, 7–9 and 10–22. Clamped cycles get a luteal phase of 11 or 12 days
// after the window instead of the usual 13.
//
// # Limits
//
// This is a rough calendar estimate, not medical advice, and it must not be
// used for contraception. It assumes a perfectly regular cycle and a fixed
// luteal phase; real cycles vary from month to month and from person to
// person, and illness, stress, pregnancy, breastfeeding and hormonal
// contraception all change them. It knows nothing but the two numbers above.
package cycle

import (
	"errors"
	"fmt"
)

// Cycle length bounds and default, in days.
const (
	// MinCycleLength is the shortest cycle length a profile accepts.
	MinCycleLength = 20
	// MaxCycleLength is the longest cycle length a profile accepts.
	MaxCycleLength = 60
	// DefaultCycleLength is the cycle length of a new profile.
	DefaultCycleLength = 28
)

// The model's fixed assumptions, in days.
const (
	// MenstrualDays is how long menstruation is assumed to last.
	MenstrualDays = 5
	// LutealDays is the assumed time from ovulation to the next period.
	LutealDays = 14
	// OvulationWindow is how many days the ovulation phase spans, centred on
	// the estimated ovulation day.
	OvulationWindow = 3
)

// Phase is one of the four phases of the menstrual cycle.
type Phase string

// The phases, in cycle order.
const (
	// Menstrual is the period itself, days 1 to 5.
	Menstrual Phase = "menstrual"
	// Follicular runs from the end of the period to the ovulation window.
	Follicular Phase = "follicular"
	// Ovulation is the three-day window around the estimated ovulation day.
	Ovulation Phase = "ovulation"
	// Luteal runs from the end of the ovulation window to the next period.
	Luteal Phase = "luteal"
)

// Phases lists every phase in cycle order.
var Phases = []Phase{Menstrual, Follicular, Ovulation, Luteal}

// Title returns the phase name for people, such as "Menstrual".
func (p Phase) Title() string {
	switch p {
	case Menstrual:
		return "Menstrual"
	case Follicular:
		return "Follicular"
	case Ovulation:
		return "Ovulation"
	case Luteal:
		return "Luteal"
	}
	return string(p)
}

// ErrInvalidCycleLength is returned when a cycle length is outside
// MinCycleLength to MaxCycleLength.
var ErrInvalidCycleLength = errors.New("cycle: invalid cycle length")

// DayRange is the cycle days of one phase, First to Last inclusive, 1-based.
type DayRange struct {
	Phase       Phase
	First, Last int
}

// PhaseDays returns the day ranges of the four phases of a cycle of
// cycleLength days, in order. They are contiguous, at least one day each, and
// together cover days 1 to cycleLength (see the package documentation).
func PhaseDays(cycleLength int) ([]DayRange, error) {
	if cycleLength < MinCycleLength || cycleLength > MaxCycleLength {
		return nil, fmt.Errorf("%w: %d is not between %d and %d",
			ErrInvalidCycleLength, cycleLength, MinCycleLength, MaxCycleLength)
	}
	half := OvulationWindow / 2
	// Keep one follicular day between menstruation and the window, so
	// short cycles still show all four phases without overlap.
	ovulationDay := max(cycleLength-LutealDays, MenstrualDays+2+half)
	first := ovulationDay - half
	last := ovulationDay + half
	return []DayRange{
		{Phase: Menstrual, First: 1, Last: MenstrualDays},
		{Phase: Follicular, First: MenstrualDays + 1, Last: first - 1},
		{Phase: Ovulation, First: first, Last: last},
		{Phase: Luteal, First: last + 1, Last: cycleLength},
	}, nil
}

// floorDiv divides rounding towards negative infinity, so dates before the
// last period land in earlier cycles rather than in cycle 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// ----------------------------------------------------------------------------
// Status and predictions
// ----------------------------------------------------------------------------

// ErrNoLastPeriod is returned when a profile has no last period date, so no
// phase can be estimated.
var ErrNoLastPeriod = errors.New("cycle: no last period date")

// Status is a person's position in the cycle on a date.
type Status struct {
	// Date is the date the status describes.
	Date Date
	// CycleDay is the 1-based day of the predicted cycle containing Date.
	CycleDay int
	// Phase is the estimated phase on Date.
	Phase Phase
	// CycleStart is the first day of the predicted cycle containing Date.
	CycleStart Date
	// NextPeriod is the predicted start of the next cycle, always after Date.
	NextPeriod Date
}

// StatusOn returns the estimated cycle day and phase on d.
//
// It returns ErrNoLastPeriod when the last period date is unknown and
// ErrInvalidCycleLength when the cycle length is out of range.
func (p Profile) StatusOn(d Date) (Status, error) {
	ranges, start, err := p.model(d)
	if err != nil {
		return Status{}, err
	}
	day := d.Sub(start) + 1
	for _, r := range ranges {
		if day >= r.First && day <= r.Last {
			return Status{
				Date:       d,
				CycleDay:   day,
				Phase:      r.Phase,
				CycleStart: start,
				NextPeriod: start.AddDays(p.CycleLength),
			}, nil
		}
	}
	// PhaseDays covers every day of the cycle, so this is a bug.
	return Status{}, fmt.Errorf("cycle: day %d not covered by the phases of a %d-day cycle", day, p.CycleLength)
}

// model checks the profile and date and returns the phase layout and the
// start of the predicted cycle containing d.
func (p Profile) model(d Date) ([]DayRange, Date, error) {
	if p.LastPeriodDate == nil {
		return nil, Date{}, ErrNoLastPeriod
	}
	last := *p.LastPeriodDate
	if !last.Valid() {
		return nil, Date{}, fmt.Errorf("%w: last period date %s", ErrInvalidDate, last)
	}
	if !d.Valid() {
		return nil, Date{}, fmt.Errorf("%w: %s", ErrInvalidDate, d)
	}
	ranges, err := PhaseDays(p.CycleLength)
	if err != nil {
		return nil, Date{}, err
	}
	k := floorDiv(d.Sub(last), p.CycleLength)
	return ranges, last.AddDays(k * p.CycleLength), nil
}

// Span is one phase of one predicted cycle: [Start, End) in days; End exclusive.
type Span struct {
	Phase Phase
	// Start is the first day of the phase.
	Start Date
	// End is the day after the last day of the phase, as in iCalendar's DTEND.
	End Date
	// CycleStart is the first day of the cycle the phase belongs to.
	CycleStart Date
}

// MaxPredictDays bounds the range Predict accepts, so a request cannot make
// it allocate without limit.
const MaxPredictDays = 10 * 366

// ErrRangeTooLong is returned by Predict for a range over MaxPredictDays.
var ErrRangeTooLong = errors.New("cycle: prediction range too long")

// Predict returns every phase span overlapping [from, to), in date order.
//
// Spans are whole: the first may start before from and the last may end
// after to. The spans are contiguous and do not overlap. An empty range
// (to not after from) gives no spans.
func (p Profile) Predict(from, to Date) ([]Span, error) {
	if !to.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrInvalidDate, to)
	}
	ranges, start, err := p.model(from)
	if err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, nil
	}
	if to.Sub(from) > MaxPredictDays {
		return nil, fmt.Errorf("%w: %s to %s is over %d days", ErrRangeTooLong, from, to, MaxPredictDays)
	}
	var spans []Span
	for ; start.Before(to); start = start.AddDays(p.CycleLength) {
		for _, r := range ranges {
			s := Span{
				Phase:      r.Phase,
				Start:      start.AddDays(r.First - 1),
				End:        start.AddDays(r.Last),
				CycleStart: start,
			}
			if s.End.After(from) && s.Start.Before(to) {
				spans = append(spans, s)
			}
		}
	}
	return spans, nil
}
