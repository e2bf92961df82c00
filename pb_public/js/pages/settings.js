// /settings: the profile (cycle length, last period, reminder time, time zone), Garmin status, the
// private calendar feed, the password, the second factor, the signed-in devices, recent sign-in activity and
// signing out.
import { clearSession, handleError, pb, signOut } from "../pb.js";
import { alertBox, busy, clearFieldErrors, field, formatInstant, formatRelative, h, showFieldErrors, statusBox } from "../ui.js";
import { dataSection } from "./settings_data.js";

/** pageSettings renders the settings page into `view`. */
export async function pageSettings(view) {
    const alert = alertBox();
    const heading = h("h1", { tabindex: "-1", text: "Settings" });
    const intro = h("p", { class: "muted", id: "signed-in-as" });
    view.append(h("div", { class: "page-title" }, heading, intro, alert));

    let profile;
    let appConfig = {};
    try {
        [profile, appConfig] = await Promise.all([
            pb.send("/api/user", {}),
            pb.send("/api/app-config", {}).catch(() => ({})),
        ]);
    } catch (err) {
        handleError(err, { alert });
        return;
    }
    intro.textContent = `Signed in as ${profile.email}`;

    view.append(
        profileSection(profile),
        garminSection(profile),
        calendarSection(),
        passwordSection(appConfig),
        mfaSection(),
        devicesSection(),
        activitySection(),
        sessionSection(),
        dataSection());
}

function section(id, title, ...children) {
    return h("section", { class: "card", id, "aria-labelledby": `${id}-title` },
        h("h2", { id: `${id}-title`, text: title }), ...children);
}

// ---------------------------------------------------------------------------------------------
// Profile

function timeZones() {
    let zones = [];
    try {
        zones = Intl.supportedValuesOf("timeZone");
    } catch {
        zones = [];
    }
    return zones.includes("UTC") ? zones : [...zones, "UTC"];
}

function browserTimeZone() {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function localToday() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function profileSection(profile) {
    const alert = alertBox();
    const status = statusBox();
    const cycleLength = field({
        label: "Cycle length (days)", name: "cycleLength", type: "number", inputmode: "numeric", min: 20, max: 60, step: 1,
        hint: "From the first day of one period to the day before the next, usually 21 to 35.",
    });
    const lastPeriod = field({
        label: "First day of your last period", name: "lastPeriodDate", type: "date", max: localToday(),
    });
    const notify = field({
        label: "Daily reminder time", name: "notificationTime", type: "time",
        hint: "Leave empty for no reminder.",
    });
    const zoneList = h("datalist", { id: "time-zones" }, timeZones().map((z) => h("option", { value: z })));
    const zone = field({
        label: "Time zone", name: "timezone", type: "text", list: "time-zones", autocomplete: "off", spellcheck: "false",
        hint: "Start typing to search, e.g. Europe/Berlin.",
    });
    const form = h("form", { class: "stack", id: "profile-form", novalidate: true },
        h("div", { class: "grid-2" }, cycleLength.wrapper, lastPeriod.wrapper, notify.wrapper, zone.wrapper),
        zoneList,
        h("div", { class: "actions" }, h("button", { type: "submit", class: "button button-primary", text: "Save" })));

    const fill = (p) => {
        cycleLength.input.value = p.cycleLength ?? "";
        lastPeriod.input.value = p.lastPeriodDate || "";
        notify.input.value = p.notificationTime || "";
        zone.input.value = p.timezone || browserTimeZone();
    };
    fill(profile);

    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        alert.textContent = "";
        status.textContent = "";
        clearFieldErrors(form);
        const body = {
            lastPeriodDate: lastPeriod.input.value || null,
            notificationTime: notify.input.value || "",
            timezone: zone.input.value.trim(),
        };
        const length = cycleLength.input.value.trim();
        if (length !== "") {
            if (!/^\d+$/.test(length)) {
                showFieldErrors(form, { cycleLength: { message: "Enter a whole number of days, e.g. 28." } });
                alert.textContent = "Check the highlighted field.";
                return;
            }
            body.cycleLength = Number(length);
        }
        const done = busy(form);
        try {
            fill(await pb.send("/api/user", { method: "PATCH", body }));
            status.textContent = "Your settings were saved.";
        } catch (err) {
            handleError(err, { form, alert });
        } finally {
            done();
        }
    });
    return section("profile", "Your cycle", alert, status, form);
}

// ---------------------------------------------------------------------------------------------
// Garmin

function garminSection(profile) {
    return section("garmin", "Garmin",
        h("p", { id: "garmin-status" }, "Status: ",
            h("strong", { text: profile.garminConnected ? "connected" : "not connected" })),
        h("p", {}, h("a", { href: "#garmin", id: "garmin-settings", text: "Garmin settings" }),
            h("span", { class: "muted", text: " (connecting a Garmin account is coming soon)" })));
}

// ---------------------------------------------------------------------------------------------
// Calendar feed

function calendarSection() {
    const alert = alertBox();
    const status = statusBox();
    const state = h("p", { id: "calendar-state", text: "Checking…" });
    const createButton = h("button", { type: "button", class: "button button-primary", id: "calendar-create", text: "Create a calendar link" });
    const revokeButton = h("button", { type: "button", class: "button button-danger", id: "calendar-revoke", hidden: true, text: "Turn off the link" });
    const urlField = field({
        label: "Your calendar link", name: "calendarUrl", type: "text", readonly: true,
        hint: "Copy it now: it is shown only once. Anyone with this link can see your cycle phases.",
    });
    const copyButton = h("button", { type: "button", class: "button", id: "calendar-copy", text: "Copy link" });
    const result = h("div", { class: "stack", id: "calendar-result", hidden: true }, urlField.wrapper, h("div", { class: "actions" }, copyButton));
    // The link is a long-lived key to health data: without a recent sign-in the server asks for
    // the password first.
    const password = field({ label: "Your current password", name: "password", type: "password", autocomplete: "current-password" });
    const confirmForm = h("form", { class: "stack", id: "calendar-confirm", novalidate: true, hidden: true },
        h("p", { text: "To create a calendar link, confirm with your password (or sign in again)." }), password.wrapper,
        h("div", { class: "actions" },
            h("button", { type: "submit", class: "button button-primary", text: "Create the link" }),
            h("button", { type: "button", class: "button", id: "calendar-cancel", text: "Cancel" })));
    const el = section("calendar", "Calendar feed",
        h("p", { class: "muted", text: "Subscribe to your phases in a calendar app (Apple Calendar, Google Calendar, Thunderbird …) with a private link." }),
        alert, status, state, result, confirmForm, h("div", { class: "actions" }, createButton, revokeButton));

    const show = (active) => {
        state.textContent = active ? "A private calendar link is active." : "You have no calendar link.";
        createButton.textContent = active ? "Replace the link" : "Create a calendar link";
        revokeButton.hidden = !active;
    };
    const run = async (fn, form = null) => {
        alert.textContent = "";
        status.textContent = "";
        createButton.disabled = revokeButton.disabled = true;
        try {
            await fn();
        } catch (err) {
            if (err?.status === 403 && !form) {
                confirmForm.hidden = false;
                password.input.focus();
                return;
            }
            handleError(err, { alert, form });
        } finally {
            createButton.disabled = revokeButton.disabled = false;
        }
    };
    const create = async (body) => {
        const res = await pb.send("/api/user/calendar-token", { method: "POST", body });
        confirmForm.hidden = true;
        password.input.value = "";
        urlField.input.value = res.url;
        result.hidden = false;
        show(true);
        status.textContent = "New calendar link created. Any older link no longer works.";
        urlField.input.focus();
        urlField.input.select();
    };

    run(async () => show((await pb.send("/api/user/calendar-token", {})).active));
    createButton.addEventListener("click", () => run(() => create(undefined)));
    confirmForm.addEventListener("submit", (event) => {
        event.preventDefault();
        clearFieldErrors(confirmForm);
        run(() => create({ password: password.input.value }), confirmForm);
    });
    confirmForm.querySelector("#calendar-cancel").addEventListener("click", () => {
        confirmForm.hidden = true;
        password.input.value = "";
        alert.textContent = "";
        createButton.focus();
    });
    revokeButton.addEventListener("click", () => run(async () => {
        await pb.send("/api/user/calendar-token", { method: "DELETE" });
        urlField.input.value = "";
        result.hidden = true;
        show(false);
        status.textContent = "The calendar link was turned off.";
    }));
    copyButton.addEventListener("click", async () => {
        urlField.input.select();
        try {
            await navigator.clipboard.writeText(urlField.input.value);
            status.textContent = "Link copied.";
        } catch {
            status.textContent = "Copying is blocked here; the link is selected, copy it with your keyboard.";
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
    const el = section("password", "Password",
        h("p", { class: "muted", text: "A new password signs out every other device." }), alert, status, form);
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

function mfaSection() {
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
    const el = section("mfa", "Second step at sign-in", alert, status, label, note, confirmForm);

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
        }
    };

    (async () => {
        try {
            const res = await pb.send("/api/user/mfa", {});
            toggle.checked = res.enabled;
            toggle.disabled = !res.available && !res.enabled;
            note.textContent = res.available
                ? "Signing in with Pocket-ID does not ask for it: your identity provider already checks you."
                : "Not available: this PhaseFlow cannot send email.";
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
        await set({ enabled: false, password: password.input.value });
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
    const el = section("devices", "Devices",
        h("p", { class: "muted", text: "Where your account is signed in now. Sign out anything you do not recognise." }),
        alert, status, list, h("div", { class: "actions" }, othersButton));
    const heading = el.querySelector("h2");
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
};

const outcomeNames = {
    success: "succeeded",
    failure: "failed",
    rate_limited: "blocked: too many attempts",
    mfa_required: "second step asked",
};

function activitySection() {
    const alert = alertBox();
    const list = h("ul", { class: "activity", id: "activity-list", "aria-busy": "true" });
    const el = section("activity", "Recent sign-in activity",
        h("p", { class: "muted", text: "The last 20 sign-ins and security changes on your account." }), alert, list);
    (async () => {
        try {
            // Session refreshes happen on every visit and would drown out the sign-ins.
            const res = await pb.collection("auth_events").getList(1, 20, {
                sort: "-created",
                filter: pb.filter("method != {:m}", { m: "refresh" }),
            });
            list.replaceChildren(...res.items.map(activityItem));
            if (!res.items.length) {
                list.append(h("li", { class: "muted", text: "No activity yet." }));
            }
        } catch (err) {
            handleError(err, { alert });
        } finally {
            list.removeAttribute("aria-busy");
        }
    })();
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
    const el = section("sessions", "Sign out", alert,
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
