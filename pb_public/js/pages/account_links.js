// The pages the account mails link to: /forgot-password, /reset-password, /verify-email and
// /confirm-email-change. They are public like /login and run on PocketBase's own endpoints. A
// mailed token is read from the address once and removed from it at once (history.replaceState),
// so it stays out of the history, of bookmarks and of anything shared; pages send no Referer.
import { getTokenPayload } from "/vendor/pocketbase.es.mjs";
import { handleError, isSignedIn, pb } from "../pb.js";
import { alertBox, busy, clearFieldErrors, field, h, statusBox } from "../ui.js";

// takeToken returns the token of this page's link and removes it from the address bar. A render
// of the same page without it (Back, a restored tab) gets the token read before.
let taken = { path: "", token: "" };
function takeToken() {
    const params = new URLSearchParams(location.search);
    const token = params.get("token") || "";
    if (token) {
        taken = { path: location.pathname, token };
        history.replaceState(null, "", location.pathname);
    }
    return taken.path === location.pathname ? taken.token : "";
}

// card builds the page's card with a heading, the two message boxes and a body.
function card(view, id, title) {
    const alert = alertBox();
    const status = statusBox();
    const body = h("div", { class: "stack" });
    view.append(h("section", { class: "card auth-card", "aria-labelledby": id },
        h("h1", { id, tabindex: "-1", text: title }), alert, status, body));
    return { alert, status, body };
}

// finish replaces the page's body with a closing sentence and a link, and moves the focus there.
function finish(ctx, sentence, href, label) {
    const link = h("a", { class: "button button-primary button-wide", href, text: label });
    ctx.body.replaceChildren(h("p", { text: sentence }), link);
    link.focus();
}

// tokenClaims decodes a mailed token's claims, or {} for a damaged one.
function tokenClaims(token) {
    try {
        return getTokenPayload(token) || {};
    } catch {
        return {};
    }
}

// expiredLink says a link cannot be used (none, damaged or expired) and offers a way forward.
function expiredLink(ctx, sentence, href, label) {
    ctx.alert.textContent = sentence;
    ctx.body.replaceChildren(h("p", {}, h("a", { href, text: label })));
}

// tokenRefused reports whether a refusal was about the link itself rather than what was typed.
function tokenRefused(err) {
    return Boolean(err?.response?.data?.token) || err?.status === 404;
}

// openLink starts a token page: its card, and the token of its link with the token's claims, or
// null (the page then says so) when the link has no token or lacks the claim `needs`.
function openLink(view, id, title, needs, incomplete) {
    const ctx = card(view, id, title);
    const token = takeToken();
    const claims = tokenClaims(token);
    if (!token || !claims[needs]) {
        expiredLink(ctx, incomplete.sentence, incomplete.href, incomplete.label);
        return null;
    }
    return { ctx, token, claims };
}

async function passwordRule() {
    try {
        return await pb.send("/api/app-config", {});
    } catch {
        return {};
    }
}

/** pageForgotPassword asks for an address and mails it a reset link (the same answer for any address). */
export async function pageForgotPassword(view) {
    const ctx = card(view, "forgot-title", "Reset your password");
    const email = field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true,
        hint: "We email you a link to choose a new password." });
    const form = h("form", { class: "stack", id: "forgot-form", novalidate: true },
        email.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Email me a link" }),
        h("p", {}, h("a", { href: "/login", text: "Back to sign in" })));
    ctx.body.append(form);
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const address = email.input.value.trim();
        const done = busy(form);
        try {
            await pb.collection("users").requestPasswordReset(address);
            ctx.status.textContent = `If an account exists for ${address}, we emailed it a link to choose a new password. ` +
                "The link works for 30 minutes; check your spam folder if nothing arrives.";
            ctx.body.replaceChildren(h("p", {}, h("a", { href: "/login", text: "Back to sign in" })));
        } catch (err) {
            done();
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
}

/** pageResetPassword sets a new password with a mailed reset link; every session of the account ends. */
export async function pageResetPassword(view) {
    const link = openLink(view, "reset-title", "Choose a new password", "email",
        { sentence: "This link is incomplete. Open it again from the mail, or ask for a new one.", href: "/forgot-password", label: "Ask for a new link" });
    if (!link) {
        return;
    }
    const { ctx, token, claims } = link;
    const appConfig = await passwordRule();
    const password = field({
        label: "New password", name: "password", type: "password", autocomplete: "new-password", required: true,
        minlength: appConfig.passwordMinLength || undefined, hint: appConfig.passwordRule || "",
    });
    const form = h("form", { class: "stack", id: "reset-form", novalidate: true },
        h("p", { text: `For ${claims.email}. Every device signed in to this account will be signed out.` }),
        // Password managers file the new password under this account.
        h("input", { type: "email", name: "username", autocomplete: "username", value: claims.email, hidden: true, readonly: true }),
        password.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Save the new password" }));
    ctx.body.append(form);
    password.input.focus();
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        try {
            await pb.collection("users").confirmPasswordReset(token, password.input.value, password.input.value);
            taken = { path: "", token: "" };
            // Every session of the account ended, this browser's too.
            pb.authStore.clear();
            finish(ctx, "Your new password is saved, and every device was signed out. Sign in with it now.", "/login", "Sign in");
        } catch (err) {
            done();
            if (tokenRefused(err)) {
                expiredLink(ctx, "This link has expired or was already used. Ask for a new one.", "/forgot-password", "Ask for a new link");
                return;
            }
            // The rule's sentence is the field error of passwordConfirm too; show it once.
            if (err?.response?.data?.passwordConfirm && err.response.data.password) {
                delete err.response.data.passwordConfirm;
            }
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
}

/** pageVerifyEmail confirms an address with a mailed verification link, after one click. */
export async function pageVerifyEmail(view) {
    const link = openLink(view, "verify-title", "Confirm your email address", "email",
        { sentence: "This link is incomplete. Open it again from the mail, or send a new one from Settings.", href: "/settings", label: "Go to Settings" });
    if (!link) {
        return;
    }
    const { ctx, token, claims } = link;
    // A click, not an automatic confirmation: mail scanners open links too.
    const form = h("form", { class: "stack", id: "verify-form", novalidate: true },
        h("p", { text: `Confirm that ${claims.email} is your address.` }),
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Confirm my address" }));
    ctx.body.append(form);
    form.querySelector("button").focus();
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        const done = busy(form);
        try {
            await pb.collection("users").confirmVerification(token);
            taken = { path: "", token: "" };
        } catch (err) {
            done();
            if (tokenRefused(err) || err?.status === 400) {
                expiredLink(ctx, "This link has expired or was already used. Send a new one from Settings.", "/settings", "Go to Settings");
                return;
            }
            handleError(err, { alert: ctx.alert, signOutOn401: false });
            return;
        }
        // Confirming an address ends every session of the account (a takeover's included); a
        // browser whose session survived (the address was confirmed already) carries on.
        let signedIn = false;
        if (isSignedIn()) {
            try {
                await pb.collection("users").authRefresh();
                signedIn = true;
            } catch {
                pb.authStore.clear();
            }
        }
        ctx.status.textContent = `${claims.email} is confirmed.`;
        if (signedIn) {
            finish(ctx, "Reminders and your calendar link can be turned on now.", "/settings", "Go to Settings");
        } else {
            finish(ctx, "For your safety every device was signed out. Sign in again to continue.", "/login", "Sign in");
        }
    });
}

/** pageConfirmEmailChange moves the account to the new address of a mailed link, with its password. */
export async function pageConfirmEmailChange(view) {
    const link = openLink(view, "email-change-title", "Confirm your new email address", "newEmail",
        { sentence: "This link is incomplete. Open it again from the mail, or start again in Settings.", href: "/settings", label: "Go to Settings" });
    if (!link) {
        return;
    }
    const { ctx, token, claims } = link;
    const password = field({
        label: "Your PhaseFlow password", name: "password", type: "password", autocomplete: "current-password", required: true,
        hint: "No password yet? Sign in with an email code and choose one in Settings first.",
    });
    const form = h("form", { class: "stack", id: "email-change-form", novalidate: true },
        h("p", { text: `Move your PhaseFlow account from ${claims.email} to ${claims.newEmail}. Every device will be signed out.` }),
        password.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Confirm the new address" }));
    ctx.body.append(form);
    password.input.focus();
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        try {
            await pb.collection("users").confirmEmailChange(token, password.input.value);
            taken = { path: "", token: "" };
            pb.authStore.clear();
            finish(ctx, `Your address is now ${claims.newEmail}, and every device was signed out. Sign in with the new address.`, "/login", "Sign in");
        } catch (err) {
            done();
            if (tokenRefused(err)) {
                expiredLink(ctx, "This link has expired or was already used. Start again in Settings.", "/settings", "Go to Settings");
                return;
            }
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
}
