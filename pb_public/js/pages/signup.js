// /signup: create an account by proving the email address first, offered only when the operator
// opened registration (OPEN_REGISTRATION); the server enforces that either way. Three steps: the
// address (the server mails a code, or a notice when the address already has an account, and
// answers the same), the code (the account is created, verified, and signed in), and an optional
// password (without one, sign in with an email code).
import { errorMessage, handleError, isSignedIn, pb } from "../pb.js";
import { alertBox, busy, clearFieldErrors, field, h, statusBox } from "../ui.js";
import { oauth2Providers, providerButtons } from "../oauth2.js";

/** pageSignup renders the sign-up page into `view`. */
export async function pageSignup(view) {
    if (isSignedIn()) {
        location.replace("/");
        return;
    }
    const alert = alertBox();
    const status = statusBox();
    const body = h("div", { class: "stack" });
    const card = h("section", { class: "card auth-card", "aria-labelledby": "signup-title" },
        h("h1", { id: "signup-title", tabindex: "-1", text: "Create your PhaseFlow account" }), alert, status, body);
    view.append(card);

    let appConfig = {};
    let methods = {};
    try {
        [appConfig, methods] = await Promise.all([
            pb.send("/api/app-config", {}),
            pb.collection("users").listAuthMethods().catch(() => ({})),
        ]);
    } catch (err) {
        handleError(err, { alert, signOutOn401: false });
        return;
    }
    if (!appConfig.openRegistration) {
        body.append(
            h("p", { text: "This PhaseFlow does not take new accounts. Ask its operator to create one for you." }),
            h("p", {}, h("a", { href: "/login", text: "Back to sign in" })));
        return;
    }
    const ctx = { alert, status, body, appConfig };
    // With open registration a first sign-in with a provider creates the account.
    const providers = oauth2Providers(methods);
    body.append(...providerButtons(providers, "/", "Sign up"));
    if (providers.length) {
        body.append(h("p", { class: "divider" }, h("span", { text: "or" })));
    }
    body.append(emailStep(ctx), h("p", { class: "muted" }, "Already have an account? ", h("a", { href: "/login", text: "Sign in" })));
}

// emailStep asks for the address and has the server mail a code to it.
function emailStep(ctx) {
    const email = field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true,
        hint: "We email you a code to prove the address is yours." });
    const form = h("form", { class: "stack", id: "signup-form", novalidate: true },
        email.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Email me a code" }));
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        const address = email.input.value.trim();
        try {
            const res = await pb.send("/api/signup", { method: "POST", body: { email: address } });
            codeStep(ctx, res.signupId, address);
        } catch (err) {
            done();
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
    return form;
}

// codeStep takes the mailed code; the right one creates the account and signs it in.
function codeStep(ctx, signupId, address) {
    const code = field({
        label: "Code from the email", name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code",
        required: true, hint: "The code is valid for 10 minutes.",
    });
    const form = h("form", { class: "stack", id: "signup-code-form", novalidate: true, "aria-label": "Enter the code" },
        h("p", { text: `We emailed ${address}. Enter the code from that mail. If the address already has an account, the mail says so instead; sign in there.` }),
        code.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Create account" }),
        h("p", {}, h("a", { href: "/signup", text: "Use another address" })));
    ctx.body.replaceChildren(form);
    code.input.focus();
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        try {
            const res = await pb.send("/api/signup/verify", { method: "POST", body: { signupId, code: code.input.value.trim() } });
            pb.authStore.save(res.token, res.record);
            passwordStep(ctx);
        } catch (err) {
            done();
            if (err?.status === 403) {
                // The account was created but waits for an administrator's approval (or sign-up
                // closed meanwhile): nothing is left to do here, so the server's one sentence
                // replaces the form, with no error box and no link to a sign-in that cannot work.
                ctx.alert.textContent = "";
                ctx.status.textContent = "";
                ctx.body.replaceChildren(h("p", { class: "alert alert-notice", id: "signup-waiting", role: "status", text: errorMessage(err) }));
                return;
            }
            handleError(err, { form, alert: ctx.alert, signOutOn401: false });
        }
    });
}

// passwordStep offers a password right after sign-up, while the fresh sign-in proves presence.
function passwordStep(ctx) {
    const rule = ctx.appConfig.passwordRule || "";
    const password = field({
        label: "Password (optional)", name: "password", type: "password", autocomplete: "new-password",
        minlength: ctx.appConfig.passwordMinLength || undefined, hint: rule,
    });
    const form = h("form", { class: "stack", id: "signup-password-form", novalidate: true, "aria-label": "Choose a password" },
        h("p", { text: "Your account is ready. You can sign in with a code from your email each time, or choose a password now." }),
        password.wrapper,
        h("div", { class: "actions" },
            h("button", { type: "submit", class: "button button-primary", text: "Save password" }),
            h("a", { class: "button", id: "signup-skip", href: "/", text: "Continue without a password" })));
    ctx.status.textContent = "Account created.";
    ctx.body.replaceChildren(form);
    password.input.focus();
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        ctx.alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        try {
            // Every session ends with a new password; the answer holds this device's new one (its
            // record is the profile, so the stored account record stays).
            const res = await pb.send("/api/user/password", { method: "POST", body: { password: password.input.value } });
            pb.authStore.save(res.token, pb.authStore.record);
            location.replace("/");
        } catch (err) {
            done();
            handleError(err, { form, alert: ctx.alert });
        }
    });
}
