// The element builder both the kiosk UI (ui/src) and the server's pages
// (crates/sspr-server/web/src) use: their screens are small, so no framework. Handlers are
// attached with addEventListener and text goes in as text nodes, so a strict CSP (no inline
// script or style) holds and nothing is parsed as HTML. Both builds compile this file, and
// the phone pages target ES2019 and Safari 13: keep to what those have.

export type Attrs = Record<string, string | number | boolean | EventListener | undefined>;
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

/** Appends children, strings as text nodes; null, undefined and false are skipped. */
export function append(el: HTMLElement, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
}
