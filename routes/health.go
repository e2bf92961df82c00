package routes

import (
	"context"
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// HealthPath is PhaseFlow's health endpoint for orchestrators (`./app healthcheck`, systemd,
// container health checks). PocketBase's own GET /api/health answers without touching the
// database; this one also reads it, so a server whose database cannot be read is unhealthy.
const HealthPath = "/api/healthz"

// healthQueryTimeout bounds the database read, well inside the healthcheck's own 5 s.
const healthQueryTimeout = 3 * time.Second

// healthResponse has the shape of PocketBase's /api/health answer. It carries no data: the
// endpoint is public, and an answer must not tell a stranger anything about the server.
type healthResponse struct {
	Message string         `json:"message"`
	Code    int            `json:"code"`
	Data    map[string]any `json:"data"`
}

// bindHealth serves GET HealthPath, public:
//
//   - 200 {"message":"API and database are healthy.","code":200,"data":{}} when one read of the
//     data database (its collections table, which every PocketBase request depends on) succeeds
//     within healthQueryTimeout;
//   - 503 "The database is not readable." otherwise (the cause goes to the log, not the answer).
func bindHealth(se *core.ServeEvent) {
	se.Router.GET(HealthPath, func(e *core.RequestEvent) error {
		e.Response.Header().Set("Cache-Control", "no-store")
		ctx, cancel := context.WithTimeout(e.Request.Context(), healthQueryTimeout)
		defer cancel()
		var one int
		err := e.App.DB().NewQuery("SELECT 1 FROM {{_collections}} LIMIT 1").WithContext(ctx).Row(&one)
		if err != nil {
			return e.Error(http.StatusServiceUnavailable, "The database is not readable.", err)
		}
		return e.JSON(http.StatusOK, healthResponse{Message: "API and database are healthy.", Code: http.StatusOK, Data: map[string]any{}})
	})
}
