// The frame around every screen: the organisation at the top, the kiosk at the bottom.
import type { App } from "../app";
import { h } from "../dom";
import { languageName, locale, locales, setLocale, t } from "../i18n";

export function frame(app: App, body: HTMLElement, opts: { cancel?: boolean; languages?: boolean } = {}): HTMLElement {
  const s = app.status?.settings;
  const org = s?.organization ?? "";
  // The organisation's logo (a data URL the server checked), or its initial.
  const mark = s?.logo
    ? h("img", { class: "logo", src: s.logo, alt: "" })
    : h("div", { class: "mark", "aria-hidden": "true" }, org.trim().charAt(0).toUpperCase() || "•");
  const right = h("div", { class: "top-right" });
  if (opts.languages) {
    const group = h("div", { class: "langs", role: "group", "aria-label": t("start.language") });
    for (const l of locales) {
      group.append(
        h(
          "button",
          {
            type: "button",
            class: `lang${l === locale() ? " lang-on" : ""}`,
            "aria-pressed": l === locale() ? "true" : "false",
            lang: l,
            onclick: () => {
              setLocale(l);
              app.go(app.screen);
            },
          },
          languageName(l),
        ),
      );
    }
    right.append(group);
  }
  if (opts.cancel) {
    right.append(
      h(
        "button",
        { type: "button", class: "btn btn-quiet", id: "cancel", onclick: () => app.restart() },
        app.loginScreen && app.screen.name === "start" ? t("common.back_to_sign_in") : t("common.cancel"),
      ),
    );
  }
  const notice = app.notice
    ? h("div", { class: "notice", role: "alert" }, app.notice)
    : null;
  return h(
    "div",
    { class: "page" },
    h("header", { class: "top" }, h("div", { class: "brand" }, mark, h("span", {}, org)), right),
    h("main", { class: "content" }, notice, body),
    h(
      "footer",
      { class: "bottom" },
      s ? t("footer.kiosk", { name: s.kiosk_name, location: s.kiosk_location }) : "",
    ),
  );
}
