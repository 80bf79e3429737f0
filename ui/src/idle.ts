// Idle watch: after the configured time without a touch or key, a visible countdown; then
// the kiosk wipes itself (flow cancelled, webview storage cleared) and reloads at Start.
import { h } from "./dom";
import { t } from "./i18n";
import { announce } from "./live";

// Shown 20 s ahead (WCAG 2.2.1 asks for at least 20 s to answer), and said again politely
// at these seconds left, once each, so a screen reader hears the end coming.
const WARN_SECS = 20;
const SAY_AGAIN_AT = [10, 5];

export function watchIdle(timeoutSecs: () => number, isIdleScreen: () => boolean, wipe: () => void): void {
  let last = Date.now();
  let overlay: HTMLElement | null = null;
  let said = new Set<number>();
  const activity = () => {
    last = Date.now();
    said = new Set();
    if (overlay) {
      overlay.remove();
      overlay = null;
    }
  };
  for (const ev of ["pointerdown", "keydown", "input", "wheel", "touchstart"]) {
    window.addEventListener(ev, activity, { capture: true, passive: true });
  }
  window.setInterval(() => {
    if (isIdleScreen()) {
      last = Date.now();
      return;
    }
    const idle = (Date.now() - last) / 1000;
    const left = Math.ceil(timeoutSecs() - idle);
    if (left <= 0) {
      wipe();
      return;
    }
    if (left <= WARN_SECS) {
      const fresh = !overlay;
      if (!overlay) {
        // Not modal, and the focus stays in the field the person left: any key or touch
        // is the answer. A screen reader hears the warning at once, through the live
        // region, and the seconds left again near the end (politely: never mid-word).
        overlay = h(
          "div",
          { class: "idle", role: "dialog", "aria-labelledby": "idle-h" },
          h(
            "div",
            { class: "idle-box" },
            h("h2", { id: "idle-h" }, t("idle.heading")),
            h("p", { class: "idle-lead" }),
            h("button", { type: "button", class: "btn btn-primary", onclick: activity }, t("idle.stay")),
          ),
        );
        document.body.append(overlay);
        announce(`${t("idle.heading")} ${t("idle.lead", { secs: left })}`, true);
      }
      const lead = overlay.querySelector(".idle-lead");
      if (lead) lead.textContent = t("idle.lead", { secs: left });
      // Each mark passed is said once; marks passed together (a late timer, a warning
      // that came up short of them) are said once, as the seconds now left.
      const due = SAY_AGAIN_AT.filter((at) => left <= at && !said.has(at));
      if (due.length > 0) {
        for (const at of due) said.add(at);
        if (!fresh) announce(t("idle.lead", { secs: left }));
      }
    }
  }, 250);
}
