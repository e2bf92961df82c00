package routes

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/cycle"
	"phaseflow/hooks"
)

// maxProfileBody bounds PATCH /api/user bodies; a valid one is well under 200 bytes.
const maxProfileBody = 4 << 10

// Profile is the /api/user contract.
type Profile struct {
	ID               string  `json:"id"`
	Email            string  `json:"email"`
	GarminConnected  bool    `json:"garminConnected"`
	CycleLength      int     `json:"cycleLength"`
	LastPeriodDate   *string `json:"lastPeriodDate"`
	NotificationTime string  `json:"notificationTime"`
	Timezone         string  `json:"timezone"`
}

// CycleStatus is the /api/user/cycle response: today's position in the cycle, in the user's zone.
type CycleStatus struct {
	Date       string  `json:"date"`
	CycleDay   *int    `json:"cycleDay"`
	Phase      *string `json:"phase"`
	NextPeriod *string `json:"nextPeriod"`
}

func bindUserProfile(se *core.ServeEvent, cfg config.Config) {
	g := se.Router.Group("/api/user")
	g.BindFunc(requireUser)
	g.GET("", userView)
	g.PATCH("", userUpdate).Bind(apis.BodyLimit(maxProfileBody))
	g.GET("/cycle", userCycle)
}

func profileResponse(r *core.Record) Profile {
	p := hooks.ProfileFromRecord(r)
	out := Profile{
		ID:               r.Id,
		Email:            r.Email(),
		GarminConnected:  r.GetBool("garminConnected"),
		CycleLength:      p.CycleLength,
		NotificationTime: p.NotificationTime,
		Timezone:         p.Timezone,
	}
	if p.LastPeriodDate != nil {
		s := p.LastPeriodDate.String()
		out.LastPeriodDate = &s
	}
	return out
}

func userView(e *core.RequestEvent) error {
	return e.JSON(http.StatusOK, profileResponse(e.Auth))
}

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
		return e.BadRequestError("Invalid profile update.", hooks.ValidationErrors(errs))
	}
	record, err := updateUser(e, "Failed to save the profile.", func(fresh *core.Record) error {
		updated, errs := hooks.ProfileFromRecord(fresh).Apply(patch, time.Now())
		if len(errs) > 0 {
			return e.BadRequestError("Invalid profile update.", hooks.ValidationErrors(errs))
		}
		hooks.ProfileToRecord(updated, fresh)
		return nil
	})
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, profileResponse(record))
}

func userCycle(e *core.RequestEvent) error {
	p := hooks.ProfileFromRecord(e.Auth)
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
