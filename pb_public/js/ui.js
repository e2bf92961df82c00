// Small DOM helpers. Pages build elements with h() and never assign HTML strings, so text from
// the server (messages, user agents, emails) cannot become markup.

/**
 * h creates an element. Props: `class`, `text`, `on<event>` handlers, `value`/`checked`
 * (properties), `dataset`; everything else is an attribute (true → empty attribute; false, null
 * and undefined are skipped). Children are nodes or strings; arrays are flattened.
 */
export function h(tag, props = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
        if (value === undefined || value === null || value === false) {
            continue;
        }
        if (key.startsWith("on") && typeof value === "function") {
            el.addEventListener(key.slice(2).toLowerCase(), value);
        } else if (key === "class") {
            el.className = value;
        } else if (key === "text") {
            el.textContent = value;
        } else if (key === "value" || key === "checked") {
            el[key] = value;
        } else if (key === "dataset") {
            Object.assign(el.dataset, value);
        } else {
            el.setAttribute(key, value === true ? "" : String(value));
        }
    }
    for (const child of children.flat(Infinity)) {
        if (child !== null && child !== undefined && child !== false) {
            el.append(child instanceof Node ? child : String(child));
        }
    }
    return el;
}

let fieldSeq = 0;

/**
 * field returns a labelled input (or `control`, e.g. a select) with a hint and a slot for the
 * server's error message, both tied to the input with aria-describedby.
 */
export function field({ label, name, type = "text", hint = "", control = null, ...attrs }) {
    const id = `f-${name}-${++fieldSeq}`;
    const input = control || h("input", { type, name, ...attrs });
    input.id = id;
    input.name = name;
    const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null;
    const errorEl = h("p", { class: "field-error", id: `${id}-error`, dataset: { errorFor: name } });
    input.setAttribute("aria-describedby", [hintEl ? hintEl.id : "", errorEl.id].filter(Boolean).join(" "));
    const wrapper = h("div", { class: "field" }, h("label", { for: id, text: label }), input, hintEl, errorEl);
    return { wrapper, input };
}

/** card is a settings card: a section labelled by its h3 title. */
export function card(id, title, ...children) {
    return h("section", { class: "card", id, "aria-labelledby": `${id}-title` },
        h("h3", { id: `${id}-title`, text: title }), ...children);
}

/** alertBox is an element whose text is announced at once: for errors. Empty, it takes no space. */
export function alertBox() {
    return h("div", { class: "alert alert-error", role: "alert" });
}

/** statusBox is an element whose text is announced politely: for confirmations. */
export function statusBox() {
    return h("div", { class: "alert alert-success", role: "status" });
}

/** clearFieldErrors removes the messages and invalid marks that showFieldErrors set. */
export function clearFieldErrors(form) {
    for (const el of form.querySelectorAll("[data-error-for]")) {
        el.textContent = "";
    }
    for (const el of form.querySelectorAll("[aria-invalid]")) {
        el.removeAttribute("aria-invalid");
    }
}

// fieldMessages replace PocketBase's terse field messages by their codes.
const fieldMessages = {
    validation_required: "Fill this in.",
    validation_is_email: "Enter an email address, e.g. you@example.com.",
    validation_invalid_email: "Enter an email address, e.g. you@example.com.",
    validation_invalid_password: "This is not your current password.",
    validation_invalid_token: "This link has expired or was already used.",
    validation_invalid_token_payload: "This link is damaged. Open it again from the mail.",
    validation_invalid_token_email: "This link is for another address.",
    validation_values_mismatch: "The two passwords differ.",
    validation_not_unique: "This value is taken.",
};

/**
 * showFieldErrors puts PocketBase's `data: {field: {code, message}}` next to the fields of `form`
 * and focuses the first invalid one. It returns the messages of fields the form does not have.
 */
export function showFieldErrors(form, data) {
    clearFieldErrors(form);
    const unshown = [];
    let first = null;
    for (const [name, detail] of Object.entries(data)) {
        const message = typeof detail === "object" && detail ? detail.message : String(detail);
        const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
        const input = form.elements.namedItem(name);
        if (!slot || !input) {
            if (message) {
                unshown.push(`${name}: ${message}`);
            }
            continue;
        }
        slot.textContent = fieldMessages[detail?.code] || message || "Check this value.";
        input.setAttribute("aria-invalid", "true");
        first = first || input;
    }
    first?.focus();
    return unshown;
}

/**
 * busy disables a form's controls while a request runs and returns the function that undoes it.
 * A disabled control loses the keyboard focus; undoing puts it on the first invalid field, if a
 * refusal marked one, or back on the control that had it (unless something else took it).
 */
export function busy(form) {
    const controls = [...form.querySelectorAll("button, input, select, textarea")].filter((el) => !el.disabled);
    const focused = document.activeElement;
    for (const el of controls) {
        el.disabled = true;
    }
    form.setAttribute("aria-busy", "true");
    return () => {
        for (const el of controls) {
            el.disabled = false;
        }
        form.removeAttribute("aria-busy");
        // A refusal marked fields while they were disabled (and so could not take the focus).
        keepFocus(form.querySelector('[aria-invalid="true"]') || focused);
    };
}

/** keepFocus puts the focus back on `el` when a disabled moment dropped it to the page. */
export function keepFocus(el) {
    const lost = !document.activeElement || document.activeElement === document.body;
    if (lost && el && el.isConnected && !el.disabled && !el.hidden) {
        el.focus();
    }
}

/** formatDay formats a "YYYY-MM-DD" calendar date without shifting it through a time zone. */
export function formatDay(ymd, options = { weekday: "long", day: "numeric", month: "long", year: "numeric" }) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || "");
    if (!m) {
        return ymd || "";
    }
    const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone: "UTC" }).format(date);
}

/** formatInstant formats a PocketBase datetime ("2006-01-02 15:04:05.000Z") in local time. */
export function formatInstant(value) {
    const date = new Date(String(value || "").replace(" ", "T"));
    if (Number.isNaN(date.getTime())) {
        return String(value || "");
    }
    return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** formatRelative says how long ago a PocketBase datetime was, e.g. "5 minutes ago". */
export function formatRelative(value, now = Date.now()) {
    const date = new Date(String(value || "").replace(" ", "T"));
    if (Number.isNaN(date.getTime())) {
        return String(value || "");
    }
    const seconds = Math.round((date.getTime() - now) / 1000);
    const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    const steps = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of steps) {
        if (Math.abs(seconds) >= size) {
            return rtf.format(Math.round(seconds / size), unit);
        }
    }
    return "just now";
}
