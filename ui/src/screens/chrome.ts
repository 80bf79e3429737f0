// The frame around every screen: the organisation at the top, the kiosk at the bottom.
import type { App } from "../app";
import { h } from "../dom";
import { icon } from "../icons";
import { languageName, locale, locales, setLocale, t } from "../i18n";

export function frame(app: App, body: HTMLElement, opts: { cancel?: boolean; languages?: boolean } = {}): HTMLElement {
  const s = app.status?.settings;
  const org = s?.organization ?? "";
  // The organisation's logo (a data URL the server checked), or its initial.
  const mark = s?.logo
    ? h("img", { class: "logo", src: s.logo, alt: "" })
    : h("div", { class: "mark", "aria-hidden": "true" }, org.trim().charAt(0).toUpperCase() || "•");
  const right = h("div", { class: "top-right" });
  if (opts.languages) right.append(languageMenu(app));
  if (opts.cancel) {
    right.append(
      h(
        "button",
        { type: "button", class: "btn btn-quiet", id: "cancel", onclick: () => app.restart() },
        app.loginScreen && app.screen.name === "start" ? t("common.back_to_sign_in") : t("common.cancel"),
      ),
    );
  }
  // Said through the live region when it appears (main.ts), not by a role here: a screen
  // drawn again would say it again.
  const notice = app.notice ? h("div", { class: "notice" }, app.notice) : null;
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

// Seven languages as seven buttons crowd the header (and push the organisation's name
// aside): one button names the current language and opens the list.
function languageMenu(app: App): HTMLElement {
  const list = h("ul", { class: "lang-menu", id: "lang-menu", hidden: true });
  const close = (focusToggle: boolean) => {
    list.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (focusToggle) toggle.focus();
  };
  for (const l of locales) {
    const on = l === locale();
    list.append(
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: `lang${on ? " lang-on" : ""}`,
            "aria-current": on ? "true" : undefined,
            lang: l,
            "data-lang": l,
            onclick: () => {
              setLocale(l);
              app.go(app.screen);
              document.getElementById("lang-toggle")?.focus();
            },
          },
          languageName(l),
        ),
      ),
    );
  }
  const toggle = h(
    "button",
    {
      type: "button",
      class: "lang-toggle",
      id: "lang-toggle",
      "aria-expanded": "false",
      "aria-controls": "lang-menu",
      "aria-label": `${t("start.language")}: ${languageName(locale())}`,
      onclick: () => {
        const opening = list.hidden;
        list.hidden = !opening;
        toggle.setAttribute("aria-expanded", String(opening));
        if (opening) list.querySelector<HTMLElement>(".lang-on")?.focus();
      },
    },
    icon("globe"),
    h("span", { lang: locale() }, languageName(locale())),
  );
  const wrap = h("div", { class: "langs" }, toggle, list);
  wrap.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !list.hidden) close(true);
  });
  // Focus moving elsewhere, or a tap anywhere else, closes the list (not the window losing
  // focus: relatedTarget is null then).
  wrap.addEventListener("focusout", (e) => {
    const to = e.relatedTarget as Node | null;
    if (to && !wrap.contains(to)) close(false);
  });
  const outside = (e: Event) => {
    if (!wrap.isConnected) document.removeEventListener("pointerdown", outside, true);
    else if (!list.hidden && !wrap.contains(e.target as Node)) close(false);
  };
  document.addEventListener("pointerdown", outside, true);
  return wrap;
}
