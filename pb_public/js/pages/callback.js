// /auth/callback: the identity provider sends the browser back here with `code` and `state` (or
// `error`). The page checks the state against the one this tab stored, exchanges the code with
// PocketBase (PKCE verifier included) and goes on to the page the person asked for.
import { OAUTH2_KEY, handleError, loginURL, pb, safeNext } from "../pb.js";
import { alertBox, h, statusBox } from "../ui.js";

/** pageCallback finishes an OIDC sign-in started on /login. */
export async function pageCallback(view) {
    const params = new URLSearchParams(location.search);
    // The code is single-use, but keep it out of the address bar and the history anyway.
    history.replaceState(null, "", location.pathname);

    let pending = null;
    try {
        pending = JSON.parse(sessionStorage.getItem(OAUTH2_KEY) || "null");
    } catch {
        pending = null;
    }
    // One attempt per start: a reload or a replayed link must begin again from /login.
    sessionStorage.removeItem(OAUTH2_KEY);

    const heading = h("h1", { tabindex: "-1", text: "Signing you in…" });
    const alert = alertBox();
    const status = statusBox();
    const card = h("section", { class: "card auth-card" }, heading, alert, status);
    view.append(card);
    status.textContent = "Finishing the sign-in with your identity provider…";

    const fail = (message) => {
        heading.textContent = "Sign-in did not work";
        status.textContent = "";
        alert.textContent = message;
        card.append(h("p", {}, h("a", { class: "button button-primary", id: "back-to-login", href: loginURL(pending?.next || "/"), text: "Back to sign in" })));
        heading.focus();
    };

    const state = params.get("state") || "";
    const stateMatches = Boolean(pending?.state) && state === pending.state;
    const providerError = params.get("error");
    if (providerError) {
        if (providerError === "access_denied") {
            fail("The sign-in was cancelled at the identity provider. You can try again.");
        } else if (stateMatches && params.get("error_description")) {
            // The description is shown only for an answer to our own request: a crafted link
            // must not put arbitrary text on this page.
            fail(`The identity provider refused the sign-in: ${params.get("error_description")}`);
        } else if (stateMatches && /^[a-z_]{1,40}$/.test(providerError)) {
            fail(`The identity provider refused the sign-in (${providerError}). Try again, or ask the operator if it keeps happening.`);
        } else {
            // Not an answer to our request: show nothing of what the link says.
            fail("The identity provider refused the sign-in. Start again from the sign-in page.");
        }
        return;
    }
    if (!pending?.state || !pending?.codeVerifier) {
        fail("This sign-in was not started in this browser tab, or it was already used. Start again from the sign-in page.");
        return;
    }
    if (!stateMatches) {
        fail("The answer from the identity provider does not match the sign-in started here (state mismatch), so it was refused. Start again from the sign-in page.");
        return;
    }
    const code = params.get("code");
    if (!code) {
        fail("The identity provider sent no authorization code. Start again from the sign-in page.");
        return;
    }

    try {
        await pb.collection("users").authWithOAuth2Code(pending.provider, code, pending.codeVerifier, pending.redirectURL);
    } catch (err) {
        fail("");
        handleError(err, { alert, signOutOn401: false });
        return;
    }
    location.replace(safeNext(pending.next));
}
