import type { App } from "../app";
import { h } from "../dom";
import { t } from "../i18n";
import { api } from "../ipc";
import { icon } from "../icons";
import { frame } from "./chrome";
import { doneScreen } from "./done";

export function unlock(app: App): HTMLElement {
  const go = async () => {
    const done = await app.busy(() => api.unlock());
    if (done) doneScreen(app, done);
  };
  return frame(
    app,
    h(
      "section",
      { class: "card card-center" },
      h("div", { class: "big-icon", "aria-hidden": "true" }, icon("unlock")),
      h("h1", { tabindex: -1 }, t("unlock.heading")),
      h("p", { class: "lead" }, t("unlock.lead")),
      h(
        "div",
        { class: "actions actions-center" },
        h("button", { type: "button", class: "btn btn-primary btn-large", id: "unlock-submit", autofocus: true, onclick: () => void go() }, t("unlock.submit")),
      ),
    ),
    { cancel: true },
  );
}
