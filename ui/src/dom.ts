// The kiosk's DOM helpers. The element builder is shared with the server's pages
// (shared/dom.ts).

export { h } from "../../shared/dom";

export function mount(root: HTMLElement, el: HTMLElement): void {
  root.replaceChildren(el);
  const first = el.querySelector<HTMLElement>("[autofocus]") ?? el.querySelector<HTMLElement>("h1");
  first?.focus({ preventScroll: true });
}
