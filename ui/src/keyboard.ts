// An on-screen keyboard for kiosks without one. Keys never take focus from the field
// they type into, and a physical keyboard keeps working alongside.
import { h } from "./dom";
import { locale, t } from "./i18n";

type Layout = "text" | "numeric";

const LETTERS: Record<string, string[]> = {
  en: ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"],
  de: ["1234567890", "qwertzuiopü", "asdfghjklöä", "yxcvbnm"],
};
const SYMBOLS = ["1234567890", "@#$%&*-+=/", "._,:;!?'\"", "()[]{}<>~"];

/** Types `text` into the field at its cursor, as a real key press would. */
function typeInto(input: HTMLInputElement, text: string | null): void {
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  let value: string;
  let cursor: number;
  if (text === null) {
    if (start === end && start === 0) return;
    const from = start === end ? start - 1 : start;
    value = input.value.slice(0, from) + input.value.slice(end);
    cursor = from;
  } else {
    if (input.maxLength > 0 && input.value.length - (end - start) + text.length > input.maxLength) return;
    value = input.value.slice(0, start) + text + input.value.slice(end);
    cursor = start + text.length;
  }
  input.value = value;
  input.setSelectionRange(cursor, cursor);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

export function keyboard(target: () => HTMLInputElement | null, layout: Layout, onEnter: () => void): HTMLElement {
  let shift = false;
  let symbols = false;
  const box = h("div", { class: `kbd kbd-${layout}`, role: "group", "aria-label": t("kbd.label") });

  const key = (label: string, action: () => void, cls = "", name = label) => {
    const b = h("button", { type: "button", class: `key ${cls}`, tabindex: -1, "aria-label": name }, label);
    // pointerdown keeps the focus in the field; click covers everything else.
    b.addEventListener("pointerdown", (e) => e.preventDefault());
    b.addEventListener("click", () => {
      const input = target();
      if (input && document.activeElement !== input) input.focus({ preventScroll: true });
      action();
    });
    return b;
  };
  const press = (ch: string) => () => {
    const input = target();
    if (!input) return;
    typeInto(input, ch);
    if (shift) {
      shift = false;
      draw();
    }
  };

  function draw(): void {
    const rows: HTMLElement[] = [];
    if (layout === "numeric") {
      for (const row of ["123", "456", "789"]) {
        rows.push(h("div", { class: "kbd-row" }, ...[...row].map((c) => key(c, press(c), "key-digit"))));
      }
      rows.push(
        h(
          "div",
          { class: "kbd-row" },
          key("⌫", () => target() && typeInto(target()!, null), "key-wide", t("kbd.backspace")),
          key("0", press("0"), "key-digit"),
          key("↵", onEnter, "key-wide key-enter", t("kbd.enter")),
        ),
      );
    } else {
      const table = symbols ? SYMBOLS : (LETTERS[locale()] ?? LETTERS.en);
      table.forEach((row, i) => {
        const keys = [...row].map((c) => {
          const ch = shift ? c.toUpperCase() : c;
          return key(ch, press(ch));
        });
        if (i === table.length - 1) {
          keys.unshift(
            key(symbols ? "#" : "⇧", () => {
              shift = !shift;
              draw();
            }, `key-wide${shift ? " key-on" : ""}`, t("kbd.shift")),
          );
          keys.push(key("⌫", () => target() && typeInto(target()!, null), "key-wide", t("kbd.backspace")));
        }
        rows.push(h("div", { class: "kbd-row" }, ...keys));
      });
      rows.push(
        h(
          "div",
          { class: "kbd-row" },
          key(symbols ? t("kbd.letters") : t("kbd.symbols"), () => {
            symbols = !symbols;
            shift = false;
            draw();
          }, "key-wide"),
          key(t("kbd.space"), press(" "), "key-space"),
          key(t("kbd.enter"), onEnter, "key-wide key-enter"),
        ),
      );
    }
    box.replaceChildren(...rows);
  }
  draw();
  return box;
}
