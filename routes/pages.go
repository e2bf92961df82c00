package routes

import (
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
)

// bindPages serves the web front end (it lands with the front-end change).
func bindPages(se *core.ServeEvent, cfg config.Config) {}
