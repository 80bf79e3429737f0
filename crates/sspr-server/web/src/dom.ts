// A tiny element builder, as in the kiosk UI: two small pages need no framework. Handlers
// are attached with addEventListener and text goes in as text nodes, so the strict CSP
// (no inline script or style) holds and nothing from the server is parsed as HTML.

type Attrs = Record<string, string | number | boolean | EventListener | undefined>;
export type Child = Node | string | null | undefined | false;

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const k of Object.keys(attrs)) {
    const v = attrs[k];
    if (v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: HTMLElement, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
}

/** Replaces an element's children (replaceChildren needs Safari 14). */
export function fill(el: HTMLElement, ...children: Child[]): void {
  el.textContent = "";
  append(el, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

export function input(attrs: Attrs): HTMLInputElement {
  return h("input", { class: "field", ...attrs }) as HTMLInputElement;
}

export function button(attrs: Attrs, text: string): HTMLButtonElement {
  return h("button", { type: "button", ...attrs }, text) as HTMLButtonElement;
}

/** Moves focus to the first field, or the heading, of a freshly shown view. */
export function focusFirst(root: HTMLElement): boolean {
  const el = root.querySelector<HTMLElement>("[data-autofocus]") ?? root.querySelector<HTMLElement>("h1, h2");
  if (el) el.focus();
  return !!el;
}

/** Only http(s) links become links; anything else from configuration stays text. */
export function safeHref(url: string): string | undefined {
  return /^https?:\/\//i.test(url) ? url : undefined;
}
