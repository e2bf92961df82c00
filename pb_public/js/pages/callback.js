// /auth/callback: the identity provider (Pocket-ID or any other the operator enabled) sends the
// browser back here with `code` and `state` (or `error`). The page checks the state against the
// one this tab stored, exchanges the code with PocketBase (PKCE verifier included) for the
// provider that started, asks for the second step when the account needs one after this
// provider, and goes on to the page the person asked for.
import { NOTICE_KEY, OAUTH2_KEY, handleError, loginURL, pb, safeNext } from "../pb.js";
import { alertBox, busy, clearFieldErrors, field, h, statusBox } from "../ui.js";
import { CANCELLED_NOTICE } from "../oauth2.js";

/** pageCallback finishes an OAuth2 sign-in started on /login or /signup. */
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
            // The person chose Cancel: back to the sign-in page, which says so.
            sessionStorage.setItem(NOTICE_KEY, CANCELLED_NOTICE);
            location.replace(loginURL(pending?.next || "/"));
            return;
        }
        if (stateMatches && params.get("error_description")) {
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
        if (err?.status === 401 && err.response?.mfaId) {
            secondStep({ card, heading, alert, status }, err.response.mfaId, pending);
            return;
        }
        fail("");
        handleError(err, { alert, signOutOn401: false });
        return;
    }
    location.replace(safeNext(pending.next));
}

// secondStep is the second factor after a provider that does not stand on its own (only
// Pocket-ID does): a code emailed to the account. The provider's answer does not say which
// address the account has, so the person types it; a code for another account does not
// complete this sign-in.
function secondStep(ctx, mfaId, pending) {
    const name = pending.displayName || "your identity provider";
    const email = field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true });
    const code = field({ label: "Code from the email", name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code" });
    const codeStep = h("div", { class: "stack", hidden: true }, code.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Verify and sign in" }));
    const requestButton = h("button", { type: "submit", class: "button button-primary button-wide", id: "mfa-request", text: "Email me a code" });
    const form = h("form", { class: "stack", id: "mfa-form", novalidate: true, "aria-label": "Second step" },
        h("p", { text: `Your account asks for a second step after ${name}. Enter your account's email address and we email you a code.` }),
        email.wrapper, requestButton, codeStep,
        h("p", {}, h("a", { href: loginURL(pending.next || "/"), text: "Start over" })));
    ctx.heading.textContent = "Second step";
    ctx.status.textContent = "";
    ctx.card.append(form);
    email.input.focus();

    let otpId = "";
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        try {
            if (!otpId) {
                otpId = (await pb.collection("users").requestOTP(email.input.value.trim())).otpId;
                done();
                requestButton.hidden = true;
                email.input.readOnly = true;
                codeStep.hidden = false;
                ctx.status.textContent = `If ${email.input.value.trim()} is your account's address, we emailed it a code.`;
                code.input.focus();
                return;
            }
            await pb.collection("users").authWithOTP(otpId, code.input.value.trim(), { mfaId });
            location.replace(safeNext(pending.next));
        } catch (err) {
            done();
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
}
