import type { App } from "../app";
import { h } from "../dom";
import { t } from "../i18n";
import { icon } from "../icons";
import { frame } from "./chrome";

export function start(app: App): HTMLElement {
  const choice = (intent: "reset" | "unlock", glyph: SVGSVGElement, title: string, hint: string) =>
    h(
      "button",
      {
        type: "button",
        class: `choice choice-${intent}`,
        "data-intent": intent,
        onclick: () => {
          app.intent = intent;
          app.login = "";
          app.go({ name: "identify" });
        },
      },
      h("span", { class: "choice-icon", "aria-hidden": "true" }, glyph),
      h("span", { class: "choice-title" }, title),
      h("span", { class: "choice-hint" }, hint),
    );
  const choices = h("div", { class: "choices" }, choice("reset", icon("key"), t("start.reset"), t("start.reset.hint")));
  if (app.status?.settings.unlock_enabled !== false) {
    choices.append(choice("unlock", icon("unlock"), t("start.unlock"), t("start.unlock.hint")));
  }
  return frame(
    app,
    h(
      "section",
      { class: "card card-wide" },
      h("h1", { tabindex: -1 }, t("start.heading")),
      h("p", { class: "lead" }, t("start.lead")),
      choices,
    ),
    { languages: true, cancel: app.loginScreen },
  );
}
