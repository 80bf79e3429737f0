// The pages' DOM helpers, on the element builder the kiosk UI uses too (shared/dom.ts):
// two small pages need no framework, and the strict CSP (no inline script or style) holds.

import { append, h, type Attrs, type Child } from "../../../../shared/dom";

export { h, type Child };

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
