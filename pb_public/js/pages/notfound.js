import { h } from "../ui.js";

/** pageNotFound is the view of a path that is no page (the server answered 404). */
export function pageNotFound(view) {
    view.append(h("section", { class: "card" },
        h("h1", { tabindex: "-1", text: "Page not found" }),
        h("p", { text: "There is no page at this address." }),
        h("p", {}, h("a", { href: "/", text: "Go to today's overview" }))));
}
