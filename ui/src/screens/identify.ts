import type { App } from "../app";
import { h } from "../dom";
import { locale, t } from "../i18n";
import { api } from "../ipc";
import { keyboard } from "../keyboard";
import { frame } from "./chrome";

export function identify(app: App): HTMLElement {
  const input = h("input", {
    id: "login",
    name: "login",
    type: "text",
    autocomplete: "off",
    autocapitalize: "none",
    spellcheck: "false",
    maxlength: 256,
    inputmode: "email",
    autofocus: true,
    class: "field",
  }) as HTMLInputElement;
  input.value = app.login;
  input.addEventListener("input", () => {
    app.login = input.value;
  });

  const submit = async () => {
    const login = input.value.trim();
    if (!login) {
      app.notice = t("error.enter_login");
      app.go({ name: "identify" });
      return;
    }
    const flow = await app.busy(() => api.startFlow(login, app.intent, locale()));
    if (!flow) return;
    app.flow = flow;
    app.challenge = null;
    app.go({ name: "verify" });
  };
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void submit();
      },
    },
    h("h1", { tabindex: -1 }, t("identify.heading")),
    h("label", { for: "login", class: "label" }, t("identify.label")),
    input,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "btn btn-quiet", onclick: () => app.restart() }, t("common.back")),
      h("button", { type: "submit", class: "btn btn-primary", id: "identify-continue" }, t("identify.continue")),
    ),
    keyboard(() => input, "text", () => void submit()),
  );
  return frame(app, form);
}
