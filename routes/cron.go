package routes

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/hooks"
	"phaseflow/migrations"
)

func bindCron(se *core.ServeEvent, cfg config.Config) {
	handler := func(e *core.RequestEvent) error { return cronRun(e, cfg) }
	se.Router.GET("/api/cron/{job}", handler)
	se.Router.POST("/api/cron/{job}", handler)
}

// cronAuthorized compares the bearer secret in constant time. Both sides are hashed first so the
// comparison does not leak the secret's length either.
func cronAuthorized(header, secret string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || got == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// cronRun runs a scheduled job now. Without CRON_SECRET the endpoint is disabled (fail closed).
func cronRun(e *core.RequestEvent, cfg config.Config) error {
	job := e.Request.PathValue("job")
	if cfg.CronSecret == "" {
		return e.Error(http.StatusServiceUnavailable, "Cron endpoints are disabled because CRON_SECRET is not set.", nil)
	}
	if !cronAuthorized(e.Request.Header.Get("Authorization"), cfg.CronSecret) {
		cronAudit(e, migrations.OutcomeFailure, "Missing or wrong cron secret for job "+truncate(job, 40)+".")
		return e.UnauthorizedError("Missing or wrong cron secret.", nil)
	}
	res, err := hooks.RunJob(e.App, cfg, job, time.Now())
	if errors.Is(err, hooks.ErrUnknownJob) {
		return e.NotFoundError(fmt.Sprintf("Unknown job; known jobs: %s.", strings.Join(hooks.JobNames(), ", ")), nil)
	}
	if err != nil {
		cronAudit(e, migrations.OutcomeFailure, "Job "+job+" failed.")
		return e.InternalServerError("The job failed; see the server log.", err)
	}
	cronAudit(e, migrations.OutcomeSuccess, fmt.Sprintf("Job %s: processed %d, sent %d.", job, res.Processed, res.Sent))
	return e.JSON(http.StatusOK, res)
}

// cronAudit records a trigger; refused ones are throttled per IP, as anyone can send them.
func cronAudit(e *core.RequestEvent, outcome, reason string) {
	record := hooks.RecordAuthEvent
	if outcome == migrations.OutcomeFailure {
		record = hooks.RecordThrottledAuthEvent
	}
	if err := record(e.App, hooks.NewAuthEvent(e, migrations.MethodCron, outcome, reason)); err != nil {
		e.App.Logger().Error("Failed to record a cron trigger", "error", err.Error())
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}
