package routes

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"phaseflow/cycle"
	"phaseflow/users"
)

// maxProfileBody bounds PATCH /api/user bodies; a valid one is well under 200 bytes.
const maxProfileBody = 4 << 10

// msgInvalidProfile heads every refused profile update.
const msgInvalidProfile = "Invalid profile update."

// CycleStatus is the /api/user/cycle response: today's position in the cycle, in the user's zone.
type CycleStatus struct {
	Date       string  `json:"date"`
	CycleDay   *int    `json:"cycleDay"`
	Phase      *string `json:"phase"`
	NextPeriod *string `json:"nextPeriod"`
}

func bindUserProfile(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("", userView)
	g.PATCH("", userUpdate).Bind(apis.BodyLimit(maxProfileBody))
	g.GET("/cycle", userCycle)
}

func userView(e *core.RequestEvent) error {
	return e.JSON(http.StatusOK, users.ProfileOf(e.Auth))
}

// userUpdate applies a partial profile update. The body's syntax is checked here; the values are
// checked once, where every write of the record passes (users.Validate).
func userUpdate(e *core.RequestEvent) error {
	body, err := io.ReadAll(e.Request.Body)
	if errors.Is(err, apis.ErrRequestEntityTooLarge) {
		return e.Error(http.StatusRequestEntityTooLarge, "The request body is too large.", nil)
	}
	if err != nil {
		return e.BadRequestError("Failed to read the request body.", err)
	}
	patch, errs := cycle.ParsePatch(body)
	if len(errs) > 0 {
		return e.BadRequestError(msgInvalidProfile, users.ValidationErrors(errs))
	}
	record, err := users.Update(e.App, e.Auth, func(fresh *core.Record) error {
		users.SetCycle(fresh, users.Cycle(fresh).Apply(patch))
		return nil
	})
	if err != nil {
		return writeError(e, msgInvalidProfile, err)
	}
	return e.JSON(http.StatusOK, users.ProfileOf(record))
}

func userCycle(e *core.RequestEvent) error {
	p := users.Cycle(e.Auth)
	today, err := cycle.Today(time.Now(), p.Timezone)
	if err != nil {
		return e.InternalServerError("", err)
	}
	out := CycleStatus{Date: today.String()}
	status, err := p.StatusOn(today)
	switch {
	case errors.Is(err, cycle.ErrNoLastPeriod):
	case err != nil:
		return e.InternalServerError("", err)
	default:
		phase, next := string(status.Phase), status.NextPeriod.String()
		out.CycleDay, out.Phase, out.NextPeriod = &status.CycleDay, &phase, &next
	}
	return e.JSON(http.StatusOK, out)
}
