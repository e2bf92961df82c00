// The "Your data" section of /settings: download everything PhaseFlow keeps about the account
// (GET /api/user/export) and delete the account (DELETE /api/user).
import { clearSession, handleError, pb } from "../pb.js";
import { alertBox, busy, card, clearFieldErrors, field, h, keepFocus, statusBox } from "../ui.js";

/** dataCards returns the cards of the Your data group: the export and the deletion. */
export function dataCards() {
    return [card("data", "Download your data", exportPart()), card("data-deletion", "Delete your account", deletePart())];
}

// exportFilename names the download as the server does: phaseflow-export-YYYY-MM-DD.json, from
// the export's own UTC time.
function exportFilename(data) {
    const day = /^\d{4}-\d{2}-\d{2}/.exec(String(data?.exportedAt || ""))?.[0] || new Date().toISOString().slice(0, 10);
    return `phaseflow-export-${day}.json`;
}

// download saves text as a file through a temporary object URL (the CSP allows it: a download is
// neither a script, a frame nor a fetch).
function download(text, filename) {
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const a = h("a", { href: url, download: filename, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    // Chromium reads the blob when the click is handled; give slower browsers a moment.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function exportPart() {
    const alert = alertBox();
    const status = statusBox();
    const button = h("button", { type: "button", class: "button", id: "data-export", text: "Download my data" });
    const part = h("div", { id: "data-export-part" },
        h("p", { class: "muted", text: "One JSON file with your profile and cycle settings, your devices, linked sign-ins, calendar link status and sign-in history. It holds no password or key. Downloading needs a sign-in within the last 10 minutes." }),
        alert, status, h("div", { class: "actions" }, button));
    button.addEventListener("click", async () => {
        alert.textContent = "";
        status.textContent = "";
        button.disabled = true;
        try {
            const data = await pb.send("/api/user/export", {});
            const filename = exportFilename(data);
            download(JSON.stringify(data, null, 2) + "\n", filename);
            status.textContent = `Your data was downloaded as ${filename}.`;
        } catch (err) {
            handleError(err, { alert });
        } finally {
            button.disabled = false;
            keepFocus(button);
        }
    });
    return part;
}

function deletePart() {
    const alert = alertBox();
    const email = field({
        label: "Type your email address to confirm", name: "confirmEmail", type: "email", autocomplete: "off",
        spellcheck: "false", required: true,
    });
    const password = field({
        label: "Your password", name: "password", type: "password", autocomplete: "current-password",
        hint: "Leave it empty if you signed in within the last 10 minutes.",
    });
    const form = h("form", { class: "stack", id: "data-delete", novalidate: true },
        email.wrapper, password.wrapper,
        h("div", { class: "actions" }, h("button", { type: "submit", class: "button button-danger", text: "Delete my account" })));
    const part = h("div", { id: "data-delete-part" },
        h("p", { text: "This deletes your account and everything in it at once: your cycle settings, your calendar link, your devices and your sign-in history. It cannot be undone, also not from a backup. Download your data first if you want to keep it." }),
        alert, form);
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        alert.textContent = "";
        clearFieldErrors(form);
        const body = { confirmEmail: email.input.value.trim() };
        if (password.input.value) {
            body.password = password.input.value;
        }
        const done = busy(form);
        try {
            await pb.send("/api/user", { method: "DELETE", body });
        } catch (err) {
            handleError(err, { alert, form });
            done();
            return;
        }
        // The account and every session are gone on the server; clear this browser too.
        clearSession("", "Your account was deleted.");
    });
    return part;
}
