// The one PocketBase client of the front end, the pb_auth cookie sync and the error helper.
// Every other module imports `pb` from here; nothing else constructs a client.
import PocketBase, { BaseAuthStore, getTokenPayload } from "/vendor/pocketbase.es.mjs";
import { showFieldErrors } from "./ui.js";

/** localStorage key of the session: the token and the account's id, nothing else. */
export const STORE_KEY = "pocketbase_auth";

/** sessionStorage key of a message for the next /login (e.g. the session ended elsewhere). */
export const NOTICE_KEY = "phaseflow.notice";

/** sessionStorage key of the identity provider's logout URL, offered on /login after sign-out. */
export const IDP_LOGOUT_KEY = "phaseflow.idpLogout";

/**
 * TokenOnlyStore keeps the full account record in memory only and persists just the token and
 * the account's id and collection: the SDK's default store would write the whole record (cycle
 * length, last period date) into localStorage, where it would stay after the session ended
 * elsewhere. Other tabs follow through the storage event, as with the SDK's LocalAuthStore.
 */
class TokenOnlyStore extends BaseAuthStore {
    constructor() {
        super();
        this.load();
        window.addEventListener("storage", (event) => {
            if (event.key === STORE_KEY) {
                this.load();
            }
        });
    }

    load() {
        let data = {};
        try {
            data = JSON.parse(localStorage.getItem(STORE_KEY) || "{}") || {};
        } catch {
            data = {};
        }
        super.save(data.token || "", data.record || null);
    }

    save(token, record) {
        const minimal = record ? { id: record.id, collectionId: record.collectionId, collectionName: record.collectionName } : null;
        localStorage.setItem(STORE_KEY, JSON.stringify({ token, record: minimal }));
        super.save(token, record);
    }

    clear() {
        localStorage.removeItem(STORE_KEY);
        super.clear();
    }
}

export const pb = new PocketBase("/", new TokenOnlyStore());

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
            sessionStorage.setItem(NOTICE_KEY, "Your session has ended. Sign in again to continue.");
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
 * clearSession clears the session in this browser (the store's onChange expires the cookie) and
 * loads /login as a new document, with `notice` shown there. The page content is removed first,
 * so a copy kept for the Back button is empty.
 */
export function clearSession(next, notice) {
    pb.authStore.clear();
    sessionStorage.removeItem(OAUTH2_KEY);
    sessionStorage.removeItem(IDP_LOGOUT_KEY);
    if (notice) {
        sessionStorage.setItem(NOTICE_KEY, notice);
    }
    document.getElementById("main")?.replaceChildren();
    document.getElementById("site-header")?.replaceChildren();
    location.assign(next ? loginURL(next) : "/login");
}

/**
 * signOut ends this device's session on the server (the token stops working at once), then
 * clears the browser. When the server cannot be reached the browser is cleared anyway, and the
 * session ends on its own when it is not used again.
 */
export async function signOut() {
    let idpLogout = "";
    if (isSignedIn()) {
        try {
            const res = await pb.send("/api/user/logout", { method: "POST" });
            idpLogout = res?.identityProviderLogout || "";
        } catch (err) {
            console.error(errorMessage(err));
        }
    }
    clearSession("", "You are signed out.");
    // A Pocket-ID sign-in: the identity provider is still signed in on this browser; /login offers
    // to sign out there too.
    if (idpLogout) {
        sessionStorage.setItem(IDP_LOGOUT_KEY, idpLogout);
    }
}

/** takeIdentityProviderLogout returns (and forgets) the identity provider's logout URL, if any. */
export function takeIdentityProviderLogout() {
    const u = sessionStorage.getItem(IDP_LOGOUT_KEY) || "";
    sessionStorage.removeItem(IDP_LOGOUT_KEY);
    return /^https?:\/\//.test(u) ? u : "";
}

/** sessionEnded is what happens when the server no longer knows this browser's session. */
export function sessionEnded(next = currentPath()) {
    clearSession(next, "Your session has ended. Sign in again to continue.");
}

/** takeNotice returns (and forgets) the message left for this /login, if any. */
export function takeNotice() {
    const notice = sessionStorage.getItem(NOTICE_KEY) || "";
    sessionStorage.removeItem(NOTICE_KEY);
    return notice;
}

// ---------------------------------------------------------------------------------------------
// Errors

// terseMessages are PocketBase's answers that say too little for a person, and what to show instead.
const terseMessages = {
    "Failed to authenticate.": "The email address or password is wrong.",
    "Failed to create record.": "That did not work. Check the fields and try again.",
    "Failed to update record.": "That did not work. Check the fields and try again.",
    "Something went wrong while processing your request.": "Something went wrong on the server. Please try again in a moment.",
    "Invalid or expired OTP": "The code is wrong or has expired. Check the latest mail, or ask for a new code.",
    "Invalid or expired MFA session.": "The sign-in took too long. Start again.",
    "Invalid or expired token.": "This link has expired or was already used. Ask for a new one.",
    "An error occurred while validating the submitted data.": "Check the highlighted fields.",
    "An error occurred while loading the submitted data.": "The form could not be read. Reload the page and try again.",
    "The request requires valid record authorization token.": "Sign in first.",
    "The requested resource wasn't found.": "This was not found. It may have been removed.",
};

/**
 * errorMessage turns a failed request into a sentence for people. The server's message is used
 * as is, except for the cases where PocketBase's wording is too terse.
 */
export function errorMessage(err) {
    const status = err?.status ?? 0;
    if (status === 0) {
        return "PhaseFlow could not be reached. Check your connection and try again.";
    }
    const message = err?.response?.message || err?.message;
    // PhaseFlow's own 429s say why and for how long (a budget, a locked account); PocketBase's
    // rate limiter only says "Too Many Requests.".
    if (status === 429 && (!message || /^too many requests\.?$/i.test(message))) {
        return "Too many attempts. Wait a minute, then try again.";
    }
    if (terseMessages[message]) {
        return terseMessages[message];
    }
    if (status >= 500) {
        return "Something went wrong on the server. Please try again in a moment.";
    }
    return message || "Something went wrong. Please try again.";
}

/**
 * handleError is the one `catch` of the front end: it shows the server's message in `alert` (an
 * element with role="alert"), hands the field errors of `response.data` to `form` (next to each
 * field; errors for fields the form lacks are added to the message), and on 401 (the session
 * ended: signed out elsewhere, expired, revoked) clears the browser and goes to /login, which
 * says so. Sign-in pages pass `signOutOn401: false`. It returns the message shown.
 */
export function handleError(err, { form = null, alert = null, signOutOn401 = true } = {}) {
    if (err?.isAbort) {
        return "";
    }
    if (err?.status === 401 && signOutOn401) {
        sessionEnded();
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
