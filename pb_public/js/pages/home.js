// /: today's cycle day, phase and the next predicted period, as computed by the server
// (GET /api/user/cycle). The front end only presents them: the cycle math lives in cycle/.
import { handleError, pb } from "../pb.js";
import { alertBox, formatDay, h } from "../ui.js";

const phases = {
    menstrual: { name: "Menstrual phase", about: "Your period. Energy is often lower; rest counts." },
    follicular: { name: "Follicular phase", about: "Estrogen rises after your period; energy usually builds." },
    ovulation: { name: "Ovulation", about: "The fertile window around the release of an egg." },
    luteal: { name: "Luteal phase", about: "Progesterone rises; the days before your next period." },
};

/** pageHome renders today's overview into `view`. */
export async function pageHome(view) {
    const alert = alertBox();
    const heading = h("h1", { tabindex: "-1", text: "Today" });
    const section = h("section", { class: "card today", "aria-labelledby": "today-title", "aria-busy": "true" });
    heading.id = "today-title";
    section.append(heading, alert);
    view.append(section);

    let cycle;
    try {
        cycle = await pb.send("/api/user/cycle", {});
    } catch (err) {
        section.removeAttribute("aria-busy");
        handleError(err, { alert });
        return;
    }
    section.removeAttribute("aria-busy");
    section.append(h("p", { class: "muted", id: "today-date", text: formatDay(cycle.date) }));

    if (cycle.cycleDay == null || !cycle.phase) {
        section.append(
            h("p", { class: "lede", id: "cycle-unknown", text: "Tell PhaseFlow when your last period started to see your cycle day and phase." }),
            h("p", {}, h("a", { class: "button button-primary", href: "/settings", id: "set-last-period", text: "Set your last period date" })));
        return;
    }

    const phase = phases[cycle.phase] || { name: cycle.phase, about: "" };
    section.append(
        h("div", { class: `phase phase-${cycle.phase}`, id: "cycle-summary", dataset: { phase: cycle.phase, cycleDay: cycle.cycleDay } },
            h("p", { class: "cycle-day" }, h("span", { class: "cycle-day-label", text: "Cycle day" }),
                h("span", { class: "cycle-day-number", text: String(cycle.cycleDay) })),
            h("p", { class: "phase-name", id: "phase-name", text: phase.name }),
            phase.about ? h("p", { class: "phase-about", text: phase.about }) : null),
        h("dl", { class: "facts" },
            h("dt", { text: "Next period expected" }),
            h("dd", { id: "next-period", dataset: { date: cycle.nextPeriod || "" }, text: cycle.nextPeriod ? formatDay(cycle.nextPeriod) : "Not known yet" })),
        h("p", { class: "muted small" }, "Predictions come from your cycle length and last period date. ",
            h("a", { href: "/settings", text: "Update them in settings" }), "."));
}
