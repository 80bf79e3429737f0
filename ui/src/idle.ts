// Idle watch: after the configured time without a touch or key, a visible countdown; then
// the kiosk wipes itself (flow cancelled, webview storage cleared) and reloads at Start.
import { h } from "./dom";
import { t } from "./i18n";
import { announce } from "./live";

const WARN_SECS = 15;

export function watchIdle(timeoutSecs: () => number, isIdleScreen: () => boolean, wipe: () => void): void {
  let last = Date.now();
  let overlay: HTMLElement | null = null;
  const activity = () => {
    last = Date.now();
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
      if (!overlay) {
        // Not modal, and the focus stays in the field the person left: any key or touch
        // is the answer. A screen reader hears the warning once, through the live region.
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
    }
  }, 250);
}
