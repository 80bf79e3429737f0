// The Customization page's live preview: the kiosk's start screen and its "We couldn't
// verify you" screen, drawn here in plain HTML and CSS at the kiosk's own size (1280×800)
// and scaled to fit. The words are the kiosk's own (ui/src/i18n), and so are its icons,
// so the preview says what the kiosk says.
import { format } from "../../../../shared/message";
import { de } from "../../../../ui/src/i18n/de";
import { en, type Key } from "../../../../ui/src/i18n/en";
import { es } from "../../../../ui/src/i18n/es";
import { fr } from "../../../../ui/src/i18n/fr";
import { it } from "../../../../ui/src/i18n/it";
import { nl } from "../../../../ui/src/i18n/nl";
import { pl } from "../../../../ui/src/i18n/pl";
import { icon } from "../../../../ui/src/icons";
import { fill, h, type Child } from "./admin-ui";

export interface PreviewValues {
  organization: string;
  /** A data URL (PNG or SVG), shown in place of the initial as the kiosk does. */
  logo: string | null;
  accent: string;
  locale: string;
  unlock: boolean;
  helpdesk: { url: string; phone: string; email: string };
}

const TABLES: Record<string, Record<Key, string>> = { en, de, fr, es, it, nl, pl };
const LOCALES = Object.keys(TABLES);
const STAGE_W = 1280;

function tr(locale: string, key: Key, params: Record<string, string | number> = {}): string {
  return format(locale, (TABLES[locale] ?? en)[key] ?? en[key], params);
}

function validColor(c: string): string {
  return /^#[0-9a-f]{6}$/i.test(c) ? c : "#0b5cad";
}

/** A stand-in for the kiosk's QR code (the kiosk draws the real one for the helpdesk address). */
function fakeQr(seed: string): HTMLCanvasElement {
  const n = 25;
  const scale = 8;
  const canvas = h("canvas", { width: n * scale, height: n * scale, class: "kp-qr", role: "img", "aria-label": "QR code (stand-in)" }) as HTMLCanvasElement;
  const ctx = canvas.getContext("2d");
  if (!ctx) return canvas;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, n * scale, n * scale);
  ctx.fillStyle = "#000";
  let x = 2166136261;
  for (let i = 0; i < seed.length; i++) x = Math.imul(x ^ seed.charCodeAt(i), 16777619) >>> 0;
  const finder = (r: number, c: number) => (r < 7 && c < 7) || (r < 7 && c >= n - 7) || (r >= n - 7 && c < 7);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (finder(r, c)) continue;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      if (x % 2) ctx.fillRect(c * scale, r * scale, scale, scale);
    }
  }
  for (const corner of [
    [0, 0],
    [0, n - 7],
    [n - 7, 0],
  ]) {
    const r = corner[0];
    const c = corner[1];
    ctx.fillRect(c * scale, r * scale, 7 * scale, 7 * scale);
    ctx.fillStyle = "#fff";
    ctx.fillRect((c + 1) * scale, (r + 1) * scale, 5 * scale, 5 * scale);
    ctx.fillStyle = "#000";
    ctx.fillRect((c + 2) * scale, (r + 2) * scale, 3 * scale, 3 * scale);
  }
  return canvas;
}

function frame(v: PreviewValues, locale: string, languages: boolean, body: HTMLElement): HTMLElement {
  const org = v.organization;
  return h(
    "div",
    { class: "kp-page", lang: locale },
    h(
      "div",
      { class: "kp-top" },
      h(
        "div",
        { class: "kp-brand" },
        v.logo && v.logo.startsWith("data:image/") ? h("img", { class: "kp-logo", src: v.logo, alt: "" }) : h("div", { class: "kp-mark" }, org.trim().charAt(0).toUpperCase() || "•"),
        h("span", {}, org),
      ),
      languages
        ? h("div", { class: "kp-langs" }, icon("globe"), h("span", { lang: locale }, tr(locale, "lang.name")))
        : null,
    ),
    h("div", { class: "kp-content" }, body),
    h("div", { class: "kp-bottom" }, tr(locale, "footer.kiosk", { name: "Front desk", location: "Lobby" })),
  );
}

function startScreen(v: PreviewValues, locale: string): HTMLElement {
  const choice = (intent: string, glyph: SVGSVGElement, title: string, hint: string) =>
    h("div", { class: `kp-choice kp-choice-${intent}` }, h("span", { class: "kp-choice-icon" }, glyph), h("span", { class: "kp-choice-title" }, title), h("span", { class: "kp-choice-hint" }, hint));
  return frame(
    v,
    locale,
    true,
    h(
      "div",
      { class: "kp-card" },
      h("p", { class: "kp-h1" }, tr(locale, "start.heading")),
      h("p", { class: "kp-lead" }, tr(locale, "start.lead")),
      h(
        "div",
        { class: "kp-choices" },
        choice("reset", icon("key"), tr(locale, "start.reset"), tr(locale, "start.reset.hint")),
        v.unlock ? choice("unlock", icon("unlock"), tr(locale, "start.unlock"), tr(locale, "start.unlock.hint")) : null,
      ),
    ),
  );
}

function helpScreen(v: PreviewValues, locale: string): HTMLElement {
  const d = v.helpdesk;
  const contact: Child[] = [
    h("p", { class: "kp-label" }, tr(locale, "help.contact")),
    d.url ? h("p", { class: "kp-help-url" }, d.url) : null,
    d.phone ? h("p", { class: "kp-help-phone" }, tr(locale, "help.phone", { phone: d.phone })) : null,
    d.email ? h("p", { class: "kp-help-email" }, d.email) : null,
    h(
      "div",
      { class: "kp-reference" },
      h("p", { class: "kp-label" }, tr(locale, "help.reference")),
      h("p", { class: "kp-reference-code" }, "K7Q4-M2XD"),
      h("p", { class: "kp-muted" }, tr(locale, "help.referenceHint")),
    ),
  ];
  return frame(
    v,
    locale,
    false,
    h(
      "div",
      { class: "kp-card" },
      h("div", { class: "kp-big-icon" }, icon("alert")),
      h("p", { class: "kp-h1" }, tr(locale, "help.heading")),
      h("p", { class: "kp-lead" }, tr(locale, "help.blocked")),
      h("p", { class: "kp-text" }, tr(locale, "help.blockedUntil", { hours: 24 })),
      h(
        "div",
        { class: "kp-helpdesk" },
        h("div", {}, ...contact),
        d.url ? h("div", { class: "kp-qr-slot" }, fakeQr(d.url), h("p", { class: "kp-muted" }, tr(locale, "help.scan"))) : null,
      ),
      h("div", { class: "kp-actions" }, h("span", { class: "kp-btn" }, tr(locale, "common.startOver"))),
    ),
  );
}

/** A screen at the kiosk's size, scaled to the width it is given. */
function stage(label: string, screen: HTMLElement, accent: string): HTMLElement {
  const inner = h("div", { class: "kp-stage", "aria-hidden": "true" }, screen);
  inner.style.setProperty("--kp-accent", validColor(accent));
  const outer = h("div", { class: "kp-frame" }, inner);
  const fit = () => {
    const w = outer.clientWidth;
    if (w > 0) inner.style.transform = `scale(${w / STAGE_W})`;
  };
  if (typeof ResizeObserver === "function") new ResizeObserver(fit).observe(outer);
  else window.addEventListener("resize", fit);
  requestAnimationFrame(fit);
  return h("figure", { class: "kp-figure" }, outer, h("figcaption", {}, label));
}

/**
 * The preview with its language switch; `update` draws it again with new values (from the
 * form as it is typed).
 */
export function kioskPreview(initial: PreviewValues): { el: HTMLElement; update: (v: PreviewValues) => void } {
  let values = initial;
  let locale = LOCALES.includes(initial.locale) ? initial.locale : "en";
  let lastDefault = locale;
  const screens = h("div", { class: "kp-screens", id: "kiosk-preview" });
  const buttons = LOCALES.map((l) => {
    const b = h("button", { type: "button", class: "seg", "data-locale": l, lang: l, "aria-pressed": String(l === locale) }, tr(l, "lang.name")) as HTMLButtonElement;
    b.addEventListener("click", () => {
      locale = l;
      draw();
    });
    return b;
  });
  const draw = () => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.getAttribute("data-locale") === locale));
    screens.setAttribute("data-locale", locale);
    fill(
      screens,
      stage(`Start screen (${tr(locale, "lang.name")})`, startScreen(values, locale), values.accent),
      stage(`\u201cWe couldn't verify you\u201d screen (${tr(locale, "lang.name")})`, helpScreen(values, locale), values.accent),
    );
  };
  draw();
  const el = h(
    "div",
    { class: "kp" },
    h("div", { class: "kp-bar" }, h("span", { class: "kp-bar-label", id: "kp-lang-label" }, "Language"), h("div", { class: "segmented", role: "group", "aria-labelledby": "kp-lang-label" }, ...buttons)),
    screens,
    h("p", { class: "form-hint" }, "Drawn here as the kiosk draws it, at a smaller size. The QR code is a stand-in: the kiosk shows one for the helpdesk web address, with the person's reference."),
  );
  return {
    el,
    update: (v) => {
      values = v;
      // A new default language shows that language.
      if (v.locale !== lastDefault && LOCALES.includes(v.locale)) {
        locale = v.locale;
        lastDefault = v.locale;
      }
      draw();
    },
  };
}
