// Entry point of every page: refresh a stored session (its expiry slides forward while the person
// uses PhaseFlow), then show the view of the current path.
import { refreshSession } from "./pb.js";
import { start } from "./router.js";

// The OAuth2 callback is about to exchange a code for a new session; refreshing an old one first
// would only spend a request.
if (location.pathname !== "/auth/callback") {
    await refreshSession();
}
await start();
