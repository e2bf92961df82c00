// The Sign-in & security group of /settings: the email address (confirm it, change it), the
// password, the second step, the signed-in devices, recent activity and signing out.
import { clearSession, handleError, pb, signOut } from "../pb.js";
import { alertBox, busy, card, clearFieldErrors, field, formatInstant, formatRelative, h, keepFocus, statusBox } from "../ui.js";

/** securityCards returns the cards of the group, for the account `profile` (GET /api/user),
 * `account` (its users record) and the operator's `appConfig`. */
export function securityCards({ profile, account, appConfig }) {
    return [
        emailSection(profile, account),
        passwordSection(appConfig),
        mfaSection(appConfig),
        devicesSection(),
        activitySection(),
        sessionSection(),
    ];
}

// ---------------------------------------------------------------------------------------------
// Email address

function emailSection(profile, account) {
    const alert = alertBox();
    const status = statusBox();
    const verified = account.verified === true;
    const state = h("p", { id: "email-state" }, h("strong", { text: profile.email }), " ",
        h("span", { class: verified ? "badge badge-ok" : "badge badge-warn", text: verified ? "confirmed" : "not confirmed" }));
    const resend = h("button", { type: "button", class: "button", id: "verify-send", text: "Send the confirmation mail" });
    const unconfirmed = h("div", { class: "stack", id: "email-unconfirmed", hidden: verified },
        h("p", { class: "muted", text: "Reminders and the calendar link need a confirmed address. We email you a link; open it to confirm." }),
        h("div", { class: "actions" }, resend));
    const newEmail = field({ label: "New email address", name: "newEmail", type: "email", autocomplete: "email", required: true,
        hint: "We email a link to the new address; open it and enter your password to finish. Until then nothing changes." });
    const form = h("form", { class: "stack", id: "email-change", novalidate: true },
        newEmail.wrapper,
        h("div", { class: "actions" }, h("button", { type: "submit", class: "button", text: "Send a confirmation link" })));
    const el = card("email", "Email address", alert, status, state, unconfirmed, form);

    resend.addEventListener("click", async () => {
        alert.textContent = "";
        status.textContent = "";
        resend.disabled = true;
        try {
            await pb.collection("users").requestVerification(profile.email);
            status.textContent = `We sent a confirmation link to ${profile.email}. It works for 1 day.`;
        } catch (err) {
            handleError(err, { alert });
        } finally {
            resend.disabled = false;
            keepFocus(resend);
        }
    });
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        alert.textContent = "";
        status.textContent = "";
        clearFieldErrors(form);
        const address = newEmail.input.value.trim();
        const done = busy(form);
        try {
            await pb.collection("users").requestEmailChange(address);
            newEmail.input.value = "";
            status.textContent = `We sent a link to ${address}. Open it and enter your password to move your account there.`;
        } catch (err) {
            handleError(err, { alert, form });
        } finally {
            done();
        }
    });
    return el;
}

// ---------------------------------------------------------------------------------------------
// Password

function passwordSection(appConfig) {
    const alert = alertBox();
    const status = statusBox();
    const current = field({
        label: "Current password", name: "currentPassword", type: "password", autocomplete: "current-password",
        hint: "Leave it empty if you have none yet, or signed in within the last 10 minutes.",
    });
    const next = field({
        label: "New password", name: "password", type: "password", autocomplete: "new-password", required: true,
        minlength: appConfig.passwordMinLength || undefined, hint: appConfig.passwordRule || "",
    });
    const form = h("form", { class: "stack", id: "password-change", novalidate: true },
        current.wrapper, next.wrapper,
        h("div", { class: "actions" }, h("button", { type: "submit", class: "button button-primary", text: "Change password" })));
    const el = card("password", "Password",
        h("p", { class: "muted", text: "Set a password, or change yours. A new password signs out every other device." }), alert, status, form);
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        alert.textContent = "";
        status.textContent = "";
        clearFieldErrors(form);
        const done = busy(form);
        const body = { password: next.input.value };
        if (current.input.value) {
            body.currentPassword = current.input.value;
        }
        try {
            // Every session ended with the old password; the answer holds this device's new one (its
            // record is the profile, so the stored account record stays).
            const res = await pb.send("/api/user/password", { method: "POST", body });
            pb.authStore.save(res.token, pb.authStore.record);
            current.input.value = next.input.value = "";
            status.textContent = "Password changed. Every other device is signed out.";
        } catch (err) {
            handleError(err, { alert, form });
        } finally {
            done();
        }
    });
    return el;
}

// ---------------------------------------------------------------------------------------------
// Second factor

function mfaSection(appConfig) {
    const alert = alertBox();
    const status = statusBox();
    const toggle = h("input", { type: "checkbox", role: "switch", id: "mfa-switch", name: "mfa", disabled: true });
    const label = h("label", { class: "switch", for: "mfa-switch" }, toggle,
        h("span", { text: "Ask for a code from my email after my password" }));
    const note = h("p", { class: "muted", id: "mfa-note" });
    const password = field({ label: "Your current password", name: "password", type: "password", autocomplete: "current-password" });
    const confirmForm = h("form", { class: "stack", id: "mfa-confirm", novalidate: true, hidden: true },
        h("p", { text: "To turn the second step off, confirm with your password." }), password.wrapper,
        h("div", { class: "actions" },
            h("button", { type: "submit", class: "button button-danger", text: "Turn off" }),
            h("button", { type: "button", class: "button", id: "mfa-cancel", text: "Cancel" })));
    const el = card("mfa", "Second step at sign-in", alert, status, label, note, confirmForm);

    const set = async (body) => {
        alert.textContent = "";
        status.textContent = "";
        toggle.disabled = true;
        try {
            const res = await pb.send("/api/user/mfa", { method: "POST", body });
            toggle.checked = res.enabled;
            confirmForm.hidden = true;
            password.input.value = "";
            status.textContent = res.enabled ? "The second step is on." : "The second step is off.";
            return true;
        } catch (err) {
            toggle.checked = !body.enabled;
            handleError(err, { alert, form: confirmForm.hidden ? null : confirmForm });
            return false;
        } finally {
            toggle.disabled = false;
            // Disabled for the request, the switch lost the focus: give it back.
            keepFocus(toggle);
        }
    };

    (async () => {
        try {
            const res = await pb.send("/api/user/mfa", {});
            toggle.checked = res.enabled;
            toggle.disabled = !res.available && !res.enabled;
            const idp = appConfig.oidc?.configured ? appConfig.oidc.displayName || "your identity provider" : "";
            note.textContent = !res.available ? "Not available: this PhaseFlow cannot send email."
                : idp ? `Signing in with ${idp} does not ask for it: your identity provider already checks you.` : "";
        } catch (err) {
            handleError(err, { alert });
        }
    })();

    toggle.addEventListener("change", async () => {
        if (toggle.checked) {
            await set({ enabled: true });
            return;
        }
        // A recent sign-in is enough proof to turn it off; otherwise the server asks for the password.
        if (!(await set({ enabled: false }))) {
            confirmForm.hidden = false;
            password.input.focus();
        }
    });
    confirmForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (await set({ enabled: false, password: password.input.value })) {
            toggle.focus();
        }
    });
    confirmForm.querySelector("#mfa-cancel").addEventListener("click", () => {
        confirmForm.hidden = true;
        password.input.value = "";
        alert.textContent = "";
        toggle.focus();
    });
    return el;
}

// ---------------------------------------------------------------------------------------------
// Devices

const sessionMethods = {
    password: "password",
    otp: "email code",
    oidc: "Pocket-ID",
    impersonation: "an administrator",
};

// sessionMethod names how a session signed in ("password+mfa" → "password and a second step").
function sessionMethod(method) {
    const [first, second] = String(method || "").split("+");
    const name = sessionMethods[first] || first || "unknown";
    return second ? `${name} and a second step` : name;
}

function devicesSection() {
    const alert = alertBox();
    const status = statusBox();
    const list = h("ul", { class: "devices", id: "device-list", "aria-busy": "true" });
    const othersButton = h("button", { type: "button", class: "button", id: "sign-out-others", hidden: true, text: "Sign out of all other devices" });
    const el = card("devices", "Devices",
        h("p", { class: "muted", text: "Where your account is signed in now. Sign out anything you do not recognise." }),
        alert, status, list, h("div", { class: "actions" }, othersButton));
    const heading = el.querySelector("h3");
    heading.tabIndex = -1;

    const load = async () => {
        list.setAttribute("aria-busy", "true");
        try {
            const sessions = await pb.send("/api/user/sessions", {});
            list.replaceChildren(...sessions.map((s) => deviceItem(s, endOne)));
            othersButton.hidden = !sessions.some((s) => !s.current);
        } catch (err) {
            handleError(err, { alert });
        } finally {
            list.removeAttribute("aria-busy");
        }
    };
    const endOne = async (s, button) => {
        alert.textContent = "";
        status.textContent = "";
        button.disabled = true;
        try {
            await pb.send(`/api/user/sessions/${encodeURIComponent(s.id)}`, { method: "DELETE" });
            status.textContent = `Signed out ${s.device}.`;
            await load();
            // The button went with its row: keep the focus in the section.
            (list.querySelector("button") || heading).focus();
        } catch (err) {
            button.disabled = false;
            handleError(err, { alert });
        }
    };
    othersButton.addEventListener("click", async () => {
        alert.textContent = "";
        status.textContent = "";
        othersButton.disabled = true;
        try {
            const res = await pb.send("/api/user/sessions/revoke-others", { method: "POST" });
            status.textContent = res.ended === 1 ? "Signed out of 1 other device." : `Signed out of ${res.ended} other devices.`;
            await load();
        } catch (err) {
            handleError(err, { alert });
        } finally {
            othersButton.disabled = false;
        }
    });
    load();
    return el;
}

function deviceItem(s, endOne) {
    const seen = s.current ? "active now" : `active ${formatRelative(s.lastSeen)}`;
    const button = s.current ? null : h("button", { type: "button", class: "button button-small", text: "Sign out", "aria-label": `Sign out ${s.device}` });
    button?.addEventListener("click", () => endOne(s, button));
    return h("li", { class: s.current ? "current" : "", dataset: { session: s.id } },
        h("div", { class: "device-what" },
            h("p", {}, h("strong", { text: s.device }), s.current ? h("span", { class: "badge", text: "This device" }) : null),
            h("p", { class: "muted small" },
                `${seen} · signed in with ${sessionMethod(s.method)} · ${formatInstant(s.created)}`,
                s.ip ? ` · ${s.ip}` : "")),
        button);
}

// ---------------------------------------------------------------------------------------------
// Recent sign-in activity

const methodNames = {
    password: "Password",
    otp: "Email code",
    otp_request: "Email code requested",
    oauth2: "Identity provider",
    impersonate: "Opened by an administrator",
    logout_all: "Signed out of all devices",
    logout: "Signed out",
    session_end: "Signed out a device",
    logout_others: "Signed out of other devices",
    mfa_setting: "Second step changed",
    calendar_token: "Calendar link changed",
    password_change: "Password changed",
    signup: "Account created",
    signup_request: "Sign-up code requested",
    email_change_request: "Email change requested",
    account_lock: "Account locked after failed sign-ins",
    user_create: "Account created by the operator",
    account_export: "Data downloaded",
};

const outcomeNames = {
    success: "succeeded",
    failure: "failed",
    rate_limited: "blocked: too many attempts",
    mfa_required: "second step asked",
    locked: "refused: the account was locked",
};

// activityPage is how many rows the activity list shows at first, and adds per "Show more".
const activityPage = 5;

function activitySection() {
    const alert = alertBox();
    const list = h("ul", { class: "activity", id: "activity-list", "aria-busy": "true" });
    const more = h("button", { type: "button", class: "button", id: "activity-more", hidden: true, text: "Show more" });
    const el = card("activity", "Recent activity",
        h("p", { class: "muted", text: "Sign-ins and security changes on your account, newest first." }), alert, list,
        h("div", { class: "actions" }, more));
    let page = 0;
    const load = async () => {
        list.setAttribute("aria-busy", "true");
        more.disabled = true;
        try {
            // Session refreshes happen on every visit and would drown out the sign-ins.
            const res = await pb.collection("auth_events").getList(page + 1, activityPage, {
                sort: "-created,-id",
                filter: pb.filter("method != {:m}", { m: "refresh" }),
            });
            page = res.page;
            const items = res.items.map(activityItem);
            list.append(...items);
            if (!res.totalItems) {
                list.append(h("li", { class: "muted", text: "No activity yet." }));
            }
            more.hidden = res.page >= res.totalPages;
            // The new rows follow the button's old place: move the focus to the first of them.
            if (page > 1 && items.length) {
                items[0].tabIndex = -1;
                items[0].focus();
            }
        } catch (err) {
            handleError(err, { alert });
        } finally {
            more.disabled = false;
            list.removeAttribute("aria-busy");
        }
    };
    more.addEventListener("click", load);
    load();
    return el;
}

function activityItem(ev) {
    const ok = ev.outcome === "success";
    return h("li", { class: ok ? "ok" : "not-ok" },
        h("p", { class: "activity-what" },
            h("strong", { text: methodNames[ev.method] || ev.method }), " ",
            h("span", { text: outcomeNames[ev.outcome] || ev.outcome })),
        h("p", { class: "activity-meta muted" },
            h("time", { datetime: String(ev.created).replace(" ", "T"), text: formatInstant(ev.created) }),
            ev.ip ? ` · ${ev.ip}` : "",
            ev.userAgent ? ` · ${shortAgent(ev.userAgent)}` : ""),
        !ok && ev.reason ? h("p", { class: "activity-reason muted", text: ev.reason }) : null);
}

// shortAgent names the browser and system of a user agent string, roughly.
function shortAgent(ua) {
    const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome"
        : /Safari\//.test(ua) ? "Safari" : "";
    const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS"
        : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
    const name = [browser, os].filter(Boolean).join(" on ");
    return name || ua.slice(0, 60);
}

// ---------------------------------------------------------------------------------------------
// Sessions

function sessionSection() {
    const alert = alertBox();
    const confirmBox = h("div", { class: "confirm stack", id: "sign-out-all-confirm", hidden: true },
        h("p", { text: "This signs you out on every device and browser, including this one." }),
        h("div", { class: "actions" },
            h("button", { type: "button", class: "button button-danger", id: "sign-out-all-confirm-button", text: "Sign out everywhere" }),
            h("button", { type: "button", class: "button", id: "sign-out-all-cancel", text: "Cancel" })));
    const askButton = h("button", { type: "button", class: "button", id: "sign-out-all", "aria-expanded": "false", text: "Sign out of all devices" });
    const el = card("sessions", "Sign out", alert,
        h("div", { class: "actions" },
            h("button", { type: "button", class: "button button-primary", id: "sign-out", text: "Sign out", onclick: () => signOut() }),
            askButton),
        confirmBox);

    askButton.addEventListener("click", () => {
        confirmBox.hidden = false;
        askButton.setAttribute("aria-expanded", "true");
        confirmButton.focus();
    });
    confirmBox.querySelector("#sign-out-all-cancel").addEventListener("click", () => {
        confirmBox.hidden = true;
        askButton.setAttribute("aria-expanded", "false");
        askButton.focus();
    });
    const confirmButton = confirmBox.querySelector("#sign-out-all-confirm-button");
    confirmButton.addEventListener("click", async () => {
        confirmButton.disabled = true;
        try {
            await pb.send("/api/user/logout-all", { method: "POST" });
            clearSession("", "You are signed out on every device.");
        } catch (err) {
            confirmButton.disabled = false;
            handleError(err, { alert });
        }
    });
    return el;
}
