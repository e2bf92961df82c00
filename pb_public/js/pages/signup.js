// /signup: create an account with email and password, offered only when the operator opened
// registration (OPEN_REGISTRATION); the server enforces that either way.
import { handleError, isSignedIn, pb } from "../pb.js";
import { alertBox, busy, clearFieldErrors, field, h, statusBox } from "../ui.js";

/** pageSignup renders the sign-up page into `view`. */
export async function pageSignup(view) {
    if (isSignedIn()) {
        location.replace("/");
        return;
    }
    const alert = alertBox();
    const status = statusBox();
    const card = h("section", { class: "card auth-card", "aria-labelledby": "signup-title" },
        h("h1", { id: "signup-title", tabindex: "-1", text: "Create your PhaseFlow account" }), alert, status);
    view.append(card);

    let appConfig = {};
    try {
        appConfig = await pb.send("/api/app-config", {});
    } catch (err) {
        handleError(err, { alert, signOutOn401: false });
        return;
    }
    if (!appConfig.openRegistration) {
        card.append(
            h("p", { text: "This PhaseFlow does not take new accounts. Ask its operator to create one for you." }),
            h("p", {}, h("a", { href: "/login", text: "Back to sign in" })));
        return;
    }

    const email = field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true });
    const password = field({
        label: "Password", name: "password", type: "password", autocomplete: "new-password", required: true,
        hint: "At least 8 characters.",
    });
    const confirm = field({ label: "Repeat the password", name: "passwordConfirm", type: "password", autocomplete: "new-password", required: true });
    const form = h("form", { class: "stack", id: "signup-form", novalidate: true },
        email.wrapper, password.wrapper, confirm.wrapper,
        h("button", { type: "submit", class: "button button-primary button-wide", text: "Create account" }));
    card.append(form, h("p", { class: "muted" }, "Already have an account? ", h("a", { href: "/login", text: "Sign in" })));

    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        alert.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        const users = pb.collection("users");
        try {
            await users.create({
                email: email.input.value.trim(),
                password: password.input.value,
                passwordConfirm: confirm.input.value,
            });
        } catch (err) {
            done();
            handleError(err, { form, alert, signOutOn401: false });
            return;
        }
        try {
            await users.authWithPassword(email.input.value.trim(), password.input.value);
            location.replace("/");
        } catch (err) {
            // The account exists; signing in may wait for an operator's approval.
            form.replaceChildren();
            status.textContent = "Your account was created.";
            handleError(err, { alert, signOutOn401: false });
            card.append(h("p", {}, h("a", { href: "/login", text: "Go to sign in" })));
        }
    });
}
