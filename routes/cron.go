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

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/jobs"
)

func bindCron(se *core.ServeEvent, cfg config.Config) {
	se.Router.POST("/api/cron/{job}", func(e *core.RequestEvent) error { return cronRun(e, cfg) })
	// Running a job changes things: a GET (a link, a prefetch, a crawler) must not.
	se.Router.GET("/api/cron/{job}", func(e *core.RequestEvent) error {
		e.Response.Header().Set("Allow", http.MethodPost)
		return e.Error(http.StatusMethodNotAllowed, "Use POST to run a job.", nil)
	})
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
// Refused triggers are audited once per IP per minute, as anyone can send them.
func cronRun(e *core.RequestEvent, cfg config.Config) error {
	job := e.Request.PathValue("job")
	if cfg.CronSecret == "" {
		return e.Error(http.StatusServiceUnavailable, "Cron endpoints are disabled because CRON_SECRET is not set.", nil)
	}
	if !cronAuthorized(e.Request.Header.Get("Authorization"), cfg.CronSecret) {
		audit.Request(e, audit.MethodCron, audit.OutcomeFailure, "Missing or wrong cron secret for job "+audit.Truncate(job, 40)+".")
		return e.UnauthorizedError("Missing or wrong cron secret.", nil)
	}
	res, err := jobs.Run(e.App, cfg, job, time.Now())
	if errors.Is(err, jobs.ErrUnknown) {
		return e.NotFoundError(fmt.Sprintf("Unknown job; known jobs: %s.", strings.Join(jobs.Names(), ", ")), nil)
	}
	if err != nil {
		audit.Request(e, audit.MethodCron, audit.OutcomeFailure, "Job "+job+" failed.")
		return e.InternalServerError("The job failed; see the server log.", err)
	}
	audit.Request(e, audit.MethodCron, audit.OutcomeSuccess, fmt.Sprintf("Job %s: processed %d, sent %d.", job, res.Processed, res.Sent))
	return e.JSON(http.StatusOK, res)
}
