// Path routes via the History API. The server has already guarded the first load of a private
// page (pb_auth cookie); later in-app navigations check the stored session here.
import { currentPath, isSignedIn, loginURL, sessionEnded, signOut } from "./pb.js";
import { h } from "./ui.js";
import { pageLogin } from "./pages/login.js";
import { pageCallback } from "./pages/callback.js";
import { pageSignup } from "./pages/signup.js";
import { pageHome } from "./pages/home.js";
import { pageSettings } from "./pages/settings.js";
import { pageNotFound } from "./pages/notfound.js";
import { pageConfirmEmailChange, pageForgotPassword, pageResetPassword, pageVerifyEmail } from "./pages/account_links.js";

const routes = {
    "/": { page: pageHome, title: "Today", private: true },
    "/settings": { page: pageSettings, title: "Settings", private: true },
    "/login": { page: pageLogin, title: "Sign in" },
    "/signup": { page: pageSignup, title: "Create an account" },
    "/auth/callback": { page: pageCallback, title: "Signing in" },
    "/forgot-password": { page: pageForgotPassword, title: "Reset your password" },
    "/reset-password": { page: pageResetPassword, title: "Choose a new password" },
    "/verify-email": { page: pageVerifyEmail, title: "Confirm your email address" },
    "/confirm-email-change": { page: pageConfirmEmailChange, title: "Confirm your new email address" },
};

const notFound = { page: pageNotFound, title: "Page not found", private: true };

let renderSeq = 0;

/** navigate shows `path` without reloading the document. */
export function navigate(path, { replace = false } = {}) {
    if (replace) {
        history.replaceState(null, "", path);
    } else {
        history.pushState(null, "", path);
    }
    render({ focus: true });
}

/**
 * pagePath is a path without its trailing slashes ("/settings/" is "/settings"), the key of
 * `routes`; the server redirects such paths too, this covers in-app navigation.
 */
function pagePath(pathname) {
    return pathname.replace(/\/+$/, "") || "/";
}

/** render shows the view of the current location. */
export async function render({ focus = false } = {}) {
    const path = pagePath(location.pathname);
    if (path !== location.pathname) {
        history.replaceState(history.state, "", path + location.search + location.hash);
    }
    const route = routes[path] || notFound;
    if (route.private && !isSignedIn()) {
        // A stale tab or a page restored by the Back button: ask the server again.
        document.getElementById("main").replaceChildren();
        location.replace(loginURL(currentPath()));
        return;
    }
    const seq = ++renderSeq;
    renderHeader(route);
    document.title = `${route.title} · PhaseFlow`;
    const main = document.getElementById("main");
    const view = h("div", { class: "view" });
    main.replaceChildren(view);
    try {
        await route.page(view);
    } finally {
        if (seq === renderSeq && focus) {
            (main.querySelector("h1") || main).focus();
        }
    }
}

function renderHeader(route) {
    const header = document.getElementById("site-header");
    const brand = h("a", { class: "brand", href: "/" }, h("img", { src: "/favicon.svg", alt: "", width: 24, height: 24 }), "PhaseFlow");
    if (!route.private) {
        header.replaceChildren(h("div", { class: "header-inner" }, brand));
        return;
    }
    const link = (href, text) => h("a", { href, "aria-current": location.pathname === href ? "page" : null, text });
    header.replaceChildren(h("div", { class: "header-inner" }, brand,
        h("nav", { "aria-label": "Main" }, link("/", "Today"), link("/settings", "Settings"),
            h("button", { type: "button", class: "button-link header-sign-out", id: "header-sign-out", text: "Sign out", onclick: () => signOut() }))));
}

/** start renders the first view and takes over same-origin links to known pages. */
export function start() {
    document.addEventListener("click", (event) => {
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
            return;
        }
        const a = event.target.closest("a[href]");
        if (!a || a.target || a.hasAttribute("download") || a.origin !== location.origin || !routes[pagePath(a.pathname)] ||
            pagePath(a.pathname) === "/auth/callback") {
            return;
        }
        if (a.pathname === location.pathname && a.search === location.search && a.hash) {
            return; // an in-page anchor
        }
        event.preventDefault();
        navigate(a.pathname + a.search);
    });
    window.addEventListener("popstate", () => render({ focus: true }));
    // A page restored from the back/forward cache runs no script on load: check the session again.
    window.addEventListener("pageshow", (event) => {
        if (event.persisted) {
            render();
        }
    });
    // Another tab signed out (the SDK syncs the store through the storage event).
    window.addEventListener("storage", (event) => {
        if (event.key === "pocketbase_auth" && !isSignedIn() && (routes[pagePath(location.pathname)] || notFound).private) {
            sessionEnded(currentPath());
        }
    });
    return render();
}
