package settings

import (
	"context"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
)

// StartOIDCWithRetry is StartOIDC with its own retry schedule (first wait, longest wait) for
// package settings_test; the channel is closed once no discovery is pending any more.
func StartOIDCWithRetry(ctx context.Context, app core.App, cfg config.Config, first, max time.Duration) <-chan struct{} {
	return startOIDC(ctx, app, cfg, retrySchedule{first: first, max: max})
}

// NewConsoleHandler is newConsoleHandler for package settings_test.
var NewConsoleHandler = newConsoleHandler
