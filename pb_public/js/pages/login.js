// /login: a button per identity provider (Pocket-ID first), the password and email-code forms,
// and the second step when the account asks for one (the server answers the first step with 401
// and an `mfaId`).
import { handleError, isSignedIn, pb, safeNext, takeIdentityProviderLogout, takeNotice } from "../pb.js";
import { alertBox, busy, clearFieldErrors, field, h, statusBox } from "../ui.js";
import { CANCELLED_NOTICE, OIDC_PROVIDER, oauth2Providers, providerButtons, takeAbandonedSignIn } from "../oauth2.js";

const AUTO_CONTINUE_KEY = "phaseflow.autoContinue";

/** pageLogin renders the sign-in page into `view`. */
export async function pageLogin(view) {
    const next = safeNext(new URLSearchParams(location.search).get("next") || "/");

    // Already signed in (the session was just refreshed by main.js): carry on to `next`. The
    // timestamp stops a loop should the server keep refusing a token the browser holds.
    if (isSignedIn()) {
        const last = Number(sessionStorage.getItem(AUTO_CONTINUE_KEY) || 0);
        if (Date.now() - last > 10_000) {
            sessionStorage.setItem(AUTO_CONTINUE_KEY, String(Date.now()));
            location.replace(next);
            return;
        }
    }

    const alert = alertBox();
    const status = statusBox();
    const body = h("div", { class: "stack" });
    const card = h("section", { class: "card auth-card", "aria-labelledby": "login-title" },
        h("h1", { id: "login-title", tabindex: "-1", text: "Sign in to PhaseFlow" }),
        alert, status, body);
    view.append(card);
    const abandoned = takeAbandonedSignIn();
    status.textContent = takeNotice() || (abandoned ? CANCELLED_NOTICE : "");
    const idpLogout = takeIdentityProviderLogout();

    let methods;
    let appConfig = {};
    try {
        [methods, appConfig] = await Promise.all([
            pb.collection("users").listAuthMethods(),
            pb.send("/api/app-config", {}).catch(() => ({})),
        ]);
    } catch (err) {
        handleError(err, { alert, signOutOn401: false });
        return;
    }

    const ctx = { next, alert, status, body, methods };
    const providers = oauth2Providers(methods);
    const provider = providers.find((p) => p.name === OIDC_PROVIDER);
    if (idpLogout) {
        const name = provider?.displayName || "your identity provider";
        body.append(h("div", { class: "confirm stack", id: "idp-logout" },
            h("p", { text: `You are still signed in at ${name} in this browser. On a shared computer, sign out there too.` }),
            h("div", { class: "actions" },
                h("a", { class: "button", id: "idp-logout-link", href: idpLogout, text: `Sign out of ${name}` }))));
    }
    // Configured but not offered: discovery has not succeeded yet (the provider was down when
    // this server started on a fresh data dir). Say so rather than drop the button silently.
    const oidc = appConfig.oidc || {};
    const providerUnavailable = !provider && oidc.configured && !oidc.available;
    if (providerUnavailable) {
        body.append(h("p", {
            class: "alert alert-notice", id: "oidc-unavailable", role: "status",
            text: `Sign-in with ${oidc.displayName || "your identity provider"} is temporarily unavailable; try again in a few minutes, or use another method.`,
        }));
    }
    body.append(...providerButtons(providers, next, "Sign in"));

    const passwordForm = methods.password?.enabled ? buildPasswordForm(ctx) : null;
    const otpForm = methods.otp?.enabled ? buildOTPForm(ctx) : null;
    const forms = [passwordForm, otpForm].filter(Boolean);
    if (providers.length && forms.length) {
        body.append(h("p", { class: "divider" }, h("span", { text: "or" })));
    }
    if (passwordForm && otpForm) {
        otpForm.hidden = true;
        const toggle = h("button", { type: "button", class: "button button-link", id: "toggle-method" });
        const sync = () => {
            toggle.textContent = passwordForm.hidden ? "Use your password instead" : "Email me a sign-in code instead";
        };
        toggle.addEventListener("click", () => {
            passwordForm.hidden = !passwordForm.hidden;
            otpForm.hidden = !otpForm.hidden;
            alert.textContent = "";
            sync();
            (passwordForm.hidden ? otpForm : passwordForm).querySelector("input")?.focus();
        });
        sync();
        body.append(passwordForm, otpForm, toggle);
    } else {
        body.append(...forms);
    }
    if (!providers.length && !forms.length && !providerUnavailable) {
        alert.textContent = "No sign-in method is enabled. Ask the operator of this PhaseFlow.";
    }
    if (appConfig.openRegistration) {
        body.append(h("p", { class: "muted" }, "New here? ", h("a", { href: "/signup", text: "Create an account" })));
    }
}

function finishSignIn(next) {
    sessionStorage.removeItem(AUTO_CONTINUE_KEY);
    location.replace(safeNext(next));
}

function buildPasswordForm(ctx) {
    const email = field({ label: "Email", name: "identity", type: "email", autocomplete: "username", required: true });
    const password = field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const form = h("form", { class: "stack", id: "password-form", novalidate: true, "aria-label": "Sign in with your password" },
        email.wrapper, password.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Sign in" }),
        h("p", { class: "small" }, h("a", { href: "/forgot-password", id: "forgot-link", text: "Forgot your password?" })));
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        try {
            await pb.collection("users").authWithPassword(email.input.value.trim(), password.input.value);
            finishSignIn(ctx.next);
        } catch (err) {
            done();
            if (err?.status === 401 && err.response?.mfaId) {
                secondStepCode(ctx, err.response.mfaId, email.input.value.trim());
                return;
            }
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
    return form;
}

function buildOTPForm(ctx) {
    const email = field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true });
    const code = field({
        label: "Code from the email", name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code",
        hint: "The code is valid for a few minutes.",
    });
    const requestButton = h("button", { type: "submit", class: "button button-primary button-wide", id: "otp-request", text: "Email me a code" });
    const codeStep = h("div", { class: "stack", hidden: true }, code.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", id: "otp-submit", text: "Sign in with the code" }));
    const form = h("form", { class: "stack", id: "otp-form", novalidate: true, "aria-label": "Sign in with an email code" },
        email.wrapper, requestButton, codeStep);
    let otpId = "";

    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        try {
            if (!otpId) {
                const res = await pb.collection("users").requestOTP(email.input.value.trim());
                otpId = res.otpId;
                done();
                requestButton.hidden = true;
                email.input.readOnly = true;
                codeStep.hidden = false;
                ctx.status.textContent = `If an account exists for ${email.input.value.trim()}, we emailed it a sign-in code.`;
                code.input.focus();
                return;
            }
            await pb.collection("users").authWithOTP(otpId, code.input.value.trim());
            finishSignIn(ctx.next);
        } catch (err) {
            done();
            if (err?.status === 401 && err.response?.mfaId) {
                secondStepPassword(ctx, err.response.mfaId, email.input.value.trim());
                return;
            }
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
    return form;
}

// secondStepCode is the second factor after a password: a code emailed to the account.
async function secondStepCode(ctx, mfaId, email) {
    const code = field({ label: "Code from the email", name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code" });
    const form = h("form", { class: "stack", id: "mfa-form", novalidate: true, "aria-label": "Second step" },
        h("h2", { text: "Second step" }),
        h("p", { text: `Your account asks for a second step. We emailed a code to ${email}; enter it here.` }),
        code.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Verify and sign in" }),
        h("p", {}, h("a", { href: location.pathname + location.search, text: "Start over" })));
    ctx.body.replaceChildren(form);
    ctx.status.textContent = "";

    let otpId = "";
    try {
        otpId = (await pb.collection("users").requestOTP(email)).otpId;
        ctx.status.textContent = `We emailed a code to ${email}.`;
    } catch (err) {
        handleError(err, { alert: ctx.alert, signOutOn401: false });
    }
    code.input.focus();

    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        const done = busy(form);
        try {
            await pb.collection("users").authWithOTP(otpId, code.input.value.trim(), { mfaId });
            finishSignIn(ctx.next);
        } catch (err) {
            done();
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
}

// secondStepPassword is the second factor after an email code: the account's password.
function secondStepPassword(ctx, mfaId, email) {
    const password = field({ label: "Password", name: "password", type: "password", autocomplete: "current-password" });
    const form = h("form", { class: "stack", id: "mfa-form", novalidate: true, "aria-label": "Second step" },
        h("h2", { text: "Second step" }),
        h("p", { text: "Your account asks for a second step. Enter your password to finish signing in." }),
        password.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Verify and sign in" }),
        h("p", {}, h("a", { href: location.pathname + location.search, text: "Start over" })));
    ctx.body.replaceChildren(form);
    ctx.status.textContent = "";
    password.input.focus();

    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        const done = busy(form);
        try {
            await pb.collection("users").authWithPassword(email, password.input.value, { mfaId });
            finishSignIn(ctx.next);
        } catch (err) {
            done();
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
}
