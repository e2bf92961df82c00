// /settings, in four groups a person can find from the list at the top: Cycle (the profile and
// Garmin), Calendar (the private feed), Sign-in & security (settings_security.js: address,
// password, second step, devices, activity, sign out) and Your data (settings_data.js: export and
// deletion).
import { handleError, pb } from "../pb.js";
import { alertBox, busy, card, clearFieldErrors, field, h, showFieldErrors, statusBox } from "../ui.js";
import { dataCards } from "./settings_data.js";
import { securityCards } from "./settings_security.js";

/** pageSettings renders the settings page into `view`. */
export async function pageSettings(view) {
    const alert = alertBox();
    const heading = h("h1", { tabindex: "-1", text: "Settings" });
    const intro = h("p", { class: "muted", id: "signed-in-as" });
    view.append(h("div", { class: "page-title" }, heading, intro, alert));

    let profile;
    let appConfig = {};
    let account = {};
    try {
        [profile, appConfig, account] = await Promise.all([
            pb.send("/api/user", {}),
            pb.send("/api/app-config", {}).catch(() => ({})),
            // The verified flag is not part of the profile contract; the record API has it.
            pb.collection("users").getOne(pb.authStore.record?.id || "-").catch(() => ({})),
        ]);
    } catch (err) {
        handleError(err, { alert });
        return;
    }
    intro.textContent = `Signed in as ${profile.email}`;

    const groups = [
        ["settings-cycle", "Cycle", [profileSection(profile), garminSection(profile)]],
        ["settings-calendar", "Calendar", [calendarSection()]],
        ["settings-security", "Sign-in & security", securityCards({ profile, account, appConfig })],
        ["settings-data", "Your data", dataCards()],
    ];
    view.append(
        h("nav", { class: "toc", "aria-label": "Settings sections" },
            h("ul", {}, groups.map(([id, title]) => h("li", {}, h("a", { href: `#${id}`, text: title }))))),
        ...groups.map(([id, title, cards]) => h("section", { class: "group", id, "aria-labelledby": `${id}-title` },
            h("h2", { id: `${id}-title`, text: title }), ...cards)));
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
    return card("profile", "Your cycle", alert, status, form);
}

// ---------------------------------------------------------------------------------------------
// Garmin

function garminSection(profile) {
    return card("garmin", "Garmin",
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
    const el = card("calendar", "Calendar feed",
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
