import type { App } from "../app";
import { h } from "../dom";
import { t } from "../i18n";
import { isOn, setMode, type Mode } from "../display";
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
  // Two switches for how the screen is drawn, kept while this person uses the kiosk.
  const toggle = (mode: Mode, id: string, label: string) => {
    const b = h(
      "button",
      { type: "button", class: "btn btn-quiet btn-mode", id, "aria-pressed": String(isOn(mode)) },
      label,
    );
    b.addEventListener("click", () => {
      setMode(mode, !isOn(mode));
      b.setAttribute("aria-pressed", String(isOn(mode)));
    });
    return b;
  };
  const modes = h(
    "div",
    { class: "modes", role: "group", "aria-label": t("start.display") },
    toggle("contrast", "mode-contrast", t("start.contrast")),
    toggle("large", "mode-large", t("start.large_text")),
  );
  return frame(
    app,
    h(
      "section",
      { class: "card card-wide" },
      h("h1", { tabindex: -1 }, t("start.heading")),
      h("p", { class: "lead" }, t("start.lead")),
      choices,
      modes,
    ),
    { languages: true, cancel: app.loginScreen },
  );
}
