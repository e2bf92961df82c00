// The one PocketBase client of the front end, the pb_auth cookie sync and the error helper.
// Every other module imports `pb` from here; nothing else constructs a client.
import PocketBase, { getTokenPayload } from "/vendor/pocketbase.es.mjs";
import { showFieldErrors } from "./ui.js";

export const pb = new PocketBase("/");

// Pages make few requests and some run side by side with the same path (e.g. a refresh and a
// page load); cancelling duplicates would only produce spurious aborts.
pb.autoCancellation(false);

/** Name of the cookie the server's page guard reads. */
export const SESSION_COOKIE = "pb_auth";

/** sessionStorage key of a pending OIDC redirect (state, PKCE verifier, provider, next). */
export const OAUTH2_KEY = "phaseflow.oauth2";

// ---------------------------------------------------------------------------------------------
// Cookie sync

// writeSessionCookie mirrors the token (and only the token: never the user record) into the
// pb_auth cookie, expiring with the token, or expires the cookie when there is no valid token.
// The cookie is not HttpOnly because this script writes it; the server uses it only to decide
// whether to serve a page, never to authorize an API call.
function writeSessionCookie(token) {
    let expires = new Date(0);
    if (token) {
        const exp = Number(getTokenPayload(token).exp || 0);
        expires = new Date(exp * 1000);
    }
    const parts = [
        `${SESSION_COOKIE}=${token ? encodeURIComponent(token) : ""}`,
        "Path=/",
        `Expires=${expires.toUTCString()}`,
        "SameSite=Lax",
    ];
    if (location.protocol === "https:") {
        parts.push("Secure");
    }
    document.cookie = parts.join("; ");
}

pb.authStore.onChange((token) => {
    // Only a users session is mirrored: the page guard accepts nothing else anyway.
    writeSessionCookie(isSignedIn() ? token : "");
}, true);

/** isSignedIn reports whether a users token that has not expired is stored. */
export function isSignedIn() {
    return pb.authStore.isValid && pb.authStore.record?.collectionName === "users";
}

/**
 * refreshSession exchanges a stored token for a fresh one, so an active person's session slides
 * forward. A refused token is cleared; a network failure keeps it (the next request decides).
 */
export async function refreshSession() {
    if (!pb.authStore.token) {
        return;
    }
    if (!isSignedIn()) {
        pb.authStore.clear();
        return;
    }
    try {
        await pb.collection("users").authRefresh();
    } catch (err) {
        if (err?.status >= 400 && err?.status < 500) {
            pb.authStore.clear();
        }
    }
}

/** loginURL is /login with `next` set to the given same-origin path (none for "/"). */
export function loginURL(next) {
    const safe = safeNext(next);
    return safe === "/" ? "/login" : "/login?next=" + encodeURIComponent(safe).replaceAll("%2F", "/");
}

/** currentPath is the page's path and query, the `next` of a redirect to /login. */
export function currentPath() {
    return location.pathname + location.search;
}

/**
 * safeNext returns `next` when it is a path on this origin, else "/": it must start with one
 * "/", hold no backslash or control character, and resolve to this origin.
 */
export function safeNext(next) {
    if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//") ||
        next.includes("\\") || /[\u0000-\u001f\u007f]/.test(next)) {
        return "/";
    }
    try {
        const u = new URL(next, location.origin);
        if (u.origin !== location.origin) {
            return "/";
        }
        // Dot segments can normalise into "//host" ("/.//evil.com"), which a browser reads as
        // another site: check what comes out, not only what went in.
        const out = u.pathname + u.search + u.hash;
        return out.startsWith("//") || out.startsWith("/\\") ? "/" : out;
    } catch {
        return "/";
    }
}

/**
 * signOut clears the session (the store's onChange expires the cookie) and loads /login as a new
 * document. The page content is removed first, so a copy kept for the Back button is empty.
 */
export function signOut(next = "") {
    pb.authStore.clear();
    sessionStorage.removeItem(OAUTH2_KEY);
    document.getElementById("main")?.replaceChildren();
    document.getElementById("site-header")?.replaceChildren();
    location.assign(next ? loginURL(next) : "/login");
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * errorMessage turns a failed request into a sentence for people. The server's message is used
 * as is, except for the cases where PocketBase's wording is too terse.
 */
export function errorMessage(err) {
    const status = err?.status ?? 0;
    if (status === 0) {
        return "PhaseFlow could not be reached. Check your connection and try again.";
    }
    if (status === 429) {
        return "Too many attempts. Wait a minute, then try again.";
    }
    const message = err?.response?.message || err?.message;
    return message || "Something went wrong. Please try again.";
}

/**
 * handleError is the one `catch` of the front end: it shows the server's message in `alert` (an
 * element with role="alert"), hands the field errors of `response.data` to `form` (next to each
 * field; errors for fields the form lacks are added to the message), and on 401 clears the session
 * and goes to /login. Sign-in pages pass `signOutOn401: false`. It returns the message shown.
 */
export function handleError(err, { form = null, alert = null, signOutOn401 = true } = {}) {
    if (err?.isAbort) {
        return "";
    }
    if (err?.status === 401 && signOutOn401) {
        signOut(currentPath());
        return "";
    }
    let message = errorMessage(err);
    const data = err?.response?.data;
    if (form && data && typeof data === "object") {
        const unshown = showFieldErrors(form, data);
        if (unshown.length) {
            message += " " + unshown.join(" ");
        }
    }
    if (alert) {
        alert.textContent = message;
    } else {
        console.error(message);
    }
    return message;
}
