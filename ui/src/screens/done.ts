import type { App } from "../app";
import type { DoneView } from "../../../shared/wire";
import { h } from "../dom";
import { t } from "../i18n";
import { icon } from "../icons";
import { frame } from "./chrome";

const BACK_AFTER_SECS = 10;

export function doneScreen(app: App, done: DoneView): void {
  app.flow = null;
  app.challenge = null;
  app.login = "";
  app.go({ name: "done", done });
}

export function done(app: App, done: DoneView): HTMLElement {
  const reset = done.outcome === "password_reset";
  const countdown = h("p", { class: "muted", id: "done-countdown" });
  const until = Date.now() + BACK_AFTER_SECS * 1000;
  const tick = () => {
    if (app.screen.name !== "done") return;
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      app.restart();
      return;
    }
    countdown.textContent = t(app.loginScreen ? "done.back.sign_in" : "done.back", { secs: left });
    window.setTimeout(tick, 250);
  };
  tick();
  return frame(
    app,
    h(
      "section",
      { class: "card card-center", id: "done" },
      h("div", { class: "big-icon ok", "aria-hidden": "true" }, icon("check")),
      h("h1", { tabindex: -1 }, reset ? t("done.reset") : t("done.unlock")),
      h("p", { class: "lead" }, reset ? t("done.reset.next") : t("done.unlock.next")),
      h("p", { class: "muted" }, t("done.where", { directories: done.directories.map((d) => d.directory).join(", ") })),
      h("div", { class: "actions actions-center" }, h("button", { type: "button", class: "btn btn-primary", id: "done-finish", onclick: () => app.restart() }, t("done.finish"))),
      countdown,
    ),
  );
}
