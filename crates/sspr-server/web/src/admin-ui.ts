// The console's building blocks: fields with labels, tables, times, states (loading,
// empty, error), notices and the confirmation dialog. No framework; text goes in as text.
import { ApiError, SessionEnded, errorBody } from "./admin-api";
import { fill, h, type Child } from "./dom";
import type { MethodKind } from "./types";

export { fill, h, type Child };

let uid = 0;
/** A fresh element id. */
export function nextId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

// ---- time ------------------------------------------------------------------------------

const DATE_TIME: Intl.DateTimeFormatOptions = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };

function parse(iso: string | undefined | null): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return isNaN(d.getTime()) ? null : d;
}

/** "2025-03-12 13:03:22 UTC" */
export function utcText(d: Date): string {
  return `${d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "").replace(/Z$/, "")} UTC`;
}

/** Local time, the year only when it isn't this year's: "Mar 12, 02:35 PM". */
export function localText(iso: string, seconds = false): string {
  const d = parse(iso);
  if (!d) return iso;
  const opts: Intl.DateTimeFormatOptions = { ...DATE_TIME };
  if (d.getFullYear() !== new Date().getFullYear()) opts.year = "numeric";
  if (seconds) opts.second = "2-digit";
  return d.toLocaleString(undefined, opts);
}

/** A time in the browser's local time, its UTC value in the title; "—" when there is none. */
export function when(iso: string | undefined | null, opts: { seconds?: boolean; relative?: boolean } = {}): HTMLElement {
  const d = parse(iso);
  if (!d || !iso) return h("span", { class: "none" }, "—");
  const el = h("time", { datetime: iso, title: utcText(d) }, localText(iso, opts.seconds));
  if (!opts.relative) return el;
  return h("span", { class: "when" }, el, h("span", { class: "ago" }, ago(d)));
}

/** "just now", "5 min ago", "3 h ago", "2 days ago" (or "in 4 min" for times ahead). */
export function ago(d: Date): string {
  const secs = Math.round((Date.now() - d.getTime()) / 1000);
  const future = secs < 0;
  const s = Math.abs(secs);
  let text: string;
  if (s < 45) return future ? "in a moment" : "just now";
  if (s < 3600) text = `${Math.max(1, Math.round(s / 60))} min`;
  else if (s < 86400 * 2) text = `${Math.round(s / 3600)} h`;
  else text = `${Math.round(s / 86400)} days`;
  return future ? `in ${text}` : `${text} ago`;
}

export function duration(secs: number): string {
  if (!isFinite(secs)) return "";
  if (secs < 60) return `${secs} s`;
  const m = Math.floor(secs / 60);
  const s = secs % 60;
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  const hrs = Math.floor(m / 60);
  return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
}

// ---- words -----------------------------------------------------------------------------

export const METHOD_LABEL: Record<MethodKind, string> = {
  email: "Email code",
  totp: "Authenticator app",
  approval: "Approve on phone (passkey)",
  sms: "SMS code",
  voice: "Voice call",
  questions: "Security questions",
};

export function methodLabel(m: string): string {
  return (METHOD_LABEL as Record<string, string>)[m] ?? m;
}

/** "flow_started" → "Flow started". */
export function words(id: string): string {
  const s = id.replace(/_/g, " ").trim();
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

// ---- states ----------------------------------------------------------------------------

export function loading(text = "Loading…"): HTMLElement {
  return h("div", { class: "state state-loading", role: "status" }, h("span", { class: "spin", "aria-hidden": "true" }), text);
}

export function empty(title: string, text?: string, ...actions: Child[]): HTMLElement {
  return h("div", { class: "state state-empty" }, h("p", { class: "state-title" }, title), text ? h("p", { class: "state-text" }, text) : null, ...actions);
}

/** An error from the server: its message, and for `policy_invalid` each problem. */
export function errorBox(e: unknown, title?: string): HTMLElement {
  const body = errorBody(e);
  const problems = body.problems ?? [];
  return h(
    "div",
    { class: "alert alert-error", role: "alert", "data-code": body.code },
    title ? h("p", { class: "alert-title" }, title) : null,
    h("p", { class: title ? "alert-text" : "alert-message" }, body.message),
    problems.length ? h("ul", { class: "problems" }, ...problems.map((p) => h("li", {}, p))) : null,
  );
}

export function alert(tone: "ok" | "info" | "warn" | "error", title: string, text?: Child, ...more: Child[]): HTMLElement {
  return h(
    "div",
    { class: `alert alert-${tone}`, role: tone === "error" ? "alert" : "status" },
    h("p", { class: "alert-title" }, title),
    text ? h("p", { class: "alert-text" }, text) : null,
    ...more,
  );
}

/** True for the ended session (the shell shows sign-in; nothing more to say here). */
export function ended(e: unknown): boolean {
  return e instanceof SessionEnded;
}

export function isApi(e: unknown, code: string): boolean {
  return e instanceof ApiError && e.code === code;
}

export function pill(text: string, tone: "ok" | "bad" | "warn" | "neutral" | "info" = "neutral", attrs: Record<string, string> = {}): HTMLElement {
  return h("span", { class: `pill pill-${tone}`, ...attrs }, text);
}

// ---- layout ----------------------------------------------------------------------------

/** A view's head: its title (focused when the view opens) and a line under it. */
export function viewHead(title: string, lead?: Child, ...actions: Child[]): HTMLElement {
  return h(
    "div",
    { class: "view-head" },
    h("div", { class: "view-head-text" }, h("h1", { tabindex: -1, id: "view-title" }, title), lead ? h("p", { class: "view-lead" }, lead) : null),
    actions.some(Boolean) ? h("div", { class: "view-actions" }, ...actions) : null,
  );
}

export function panel(title: string | null, ...children: Child[]): HTMLElement {
  const id = title ? nextId("panel") : undefined;
  return h(
    "section",
    { class: "panel", "aria-labelledby": id },
    title ? h("h2", { class: "panel-title", id }, title) : null,
    ...children,
  );
}

export function btn(text: string, attrs: Record<string, string | boolean | EventListener | undefined> = {}, tone: "primary" | "quiet" | "danger" = "quiet"): HTMLButtonElement {
  return h("button", { type: "button", ...attrs, class: `btn btn-${tone}${attrs.class ? ` ${attrs.class}` : ""}` }, text) as HTMLButtonElement;
}

/** Runs `fn` with the button busy (disabled, aria-busy), whatever the outcome. */
export async function busy<T>(b: HTMLButtonElement, fn: () => Promise<T>, busyText?: string): Promise<T> {
  const text = b.textContent;
  b.disabled = true;
  b.setAttribute("aria-busy", "true");
  if (busyText) b.textContent = busyText;
  try {
    return await fn();
  } finally {
    b.disabled = false;
    b.removeAttribute("aria-busy");
    if (busyText) b.textContent = text;
  }
}

// ---- fields ----------------------------------------------------------------------------

/** A labelled field: label, control, hint (described-by), and an error line. */
export function fieldRow(label: string, control: HTMLElement, hint?: Child, extra?: Child): HTMLElement {
  const id = control.id || nextId("f");
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "form-row" },
    h("label", { class: "form-label", for: id }, label),
    h("div", { class: "form-control" }, control, extra ?? null, hint ? h("p", { class: "form-hint", id: hintId }, hint) : null),
  );
}

export function textInput(attrs: Record<string, string | number | boolean | undefined> = {}): HTMLInputElement {
  return h("input", { type: "text", class: "input", autocomplete: "off", spellcheck: "false", ...attrs }) as HTMLInputElement;
}

/** A fieldset of radio buttons, each with its label and an optional line under it. */
export function radios(
  name: string,
  legend: string,
  options: { value: string; label: string; hint?: string }[],
  value: string,
  hint?: string,
  inline = false,
): { el: HTMLElement; value: () => string; inputs: HTMLInputElement[] } {
  const inputs: HTMLInputElement[] = [];
  const hintId = hint ? nextId("hint") : undefined;
  const el = h(
    "fieldset",
    { class: `form-row choice-set${inline ? " choice-inline" : ""}`, "aria-describedby": hintId },
    h("legend", { class: "form-label" }, legend),
    h(
      "div",
      { class: "form-control" },
      ...options.map((o) => {
        const id = nextId(name);
        const input = h("input", { type: "radio", name, id, value: o.value, checked: o.value === value, "data-field": name }) as HTMLInputElement;
        inputs.push(input);
        return h("div", { class: "check" }, input, h("label", { for: id }, h("span", { class: "check-label" }, o.label), o.hint ? h("span", { class: "check-hint" }, o.hint) : null));
      }),
      hint ? h("p", { class: "form-hint", id: hintId }, hint) : null,
    ),
  );
  return { el, inputs, value: () => inputs.find((i) => i.checked)?.value ?? value };
}

/** One checkbox with its label and an optional line under it. */
export function checkbox(name: string, label: string, checked: boolean, hint?: string): { el: HTMLElement; input: HTMLInputElement } {
  const id = nextId(name);
  const input = h("input", { type: "checkbox", id, name, checked, "data-field": name }) as HTMLInputElement;
  const el = h("div", { class: "check" }, input, h("label", { for: id }, h("span", { class: "check-label" }, label), hint ? h("span", { class: "check-hint" }, hint) : null));
  return { el, input };
}

// ---- tables ----------------------------------------------------------------------------

export interface Column<T> {
  title: string;
  cell: (row: T) => Child;
  /** "num": right-aligned figures; "act": the row's buttons, right-aligned. */
  kind?: "num" | "act";
  /** Hidden on narrow screens (the row stays readable without it). */
  wide?: boolean;
}

export function table<T>(caption: string, columns: Column<T>[], rows: T[], rowAttrs?: (row: T) => Record<string, string>): HTMLElement {
  const cls = (c: Column<T>) => [c.kind, c.wide ? "wide" : ""].filter(Boolean).join(" ") || undefined;
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "table" },
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col", class: cls(c) }, c.title)))),
      h(
        "tbody",
        {},
        ...rows.map((r) =>
          h("tr", rowAttrs ? rowAttrs(r) : {}, ...columns.map((c) => h("td", { class: cls(c), "data-label": c.title }, c.cell(r)))),
        ),
      ),
    ),
  );
}

// ---- dialog ----------------------------------------------------------------------------

export interface ConfirmOptions {
  title: string;
  text: Child;
  confirm: string;
  danger?: boolean;
  cancel?: string;
}

/** A modal question with two buttons; resolves true for the confirming one. */
export function confirmDialog(o: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = nextId("dlg");
    const yes = btn(o.confirm, { "data-confirm": "yes" }, o.danger ? "danger" : "primary");
    const no = btn(o.cancel ?? "Cancel", { "data-confirm": "no" });
    const dlg = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId, class: "dialog-title" }, o.title),
      h("div", { class: "dialog-text" }, o.text),
      h("div", { class: "dialog-actions" }, no, yes),
    ) as HTMLDialogElement;
    let answered = false;
    const done = (v: boolean) => {
      if (answered) return;
      answered = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    yes.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    dlg.addEventListener("close", () => done(false));
    document.body.appendChild(dlg);
    dlg.showModal();
    no.focus();
  });
}

// ---- CSV -------------------------------------------------------------------------------

export type CsvValue = string | number | boolean | null | undefined;

/**
 * One field as the server's exports write it: numbers bare, text quoted with its quotes
 * doubled, and a leading = + - @ (or tab, CR) made inert for spreadsheets with a '.
 */
export function csvField(v: CsvValue): string {
  if (typeof v === "number") return isFinite(v) ? String(v) : "";
  const s = v === null || v === undefined ? "" : typeof v === "boolean" ? (v ? "yes" : "no") : v;
  const inert = /^[=+\-@\t\r]/.test(s);
  return `"${inert ? "'" : ""}${s.replace(/"/g, '""')}"`;
}

/** A header line (plain names) and a line per row. */
export function csvText(header: string[], rows: CsvValue[][]): string {
  return `${[header.join(","), ...rows.map((r) => r.map(csvField).join(","))].join("\n")}\n`;
}

/** Saves `text` as a file (a Blob and a link's download; nothing goes to the server). */
export function downloadCsv(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** A button that downloads what `make` builds, as `filename`. */
export function csvButton(what: string, filename: () => string, make: () => string, id?: string): HTMLButtonElement {
  // The name starts with the words on the button (WCAG 2.5.3: what is seen is what is said).
  const b = btn("Export CSV", { class: "btn-small", id, "data-csv": filename(), "aria-label": `Export CSV of ${what}` });
  b.addEventListener("click", () => downloadCsv(filename(), make()));
  return b;
}

// ---- search as you type ----------------------------------------------------------------

/**
 * Makes a text field a combobox that suggests the directory's groups as it is typed
 * (`GET /v1/admin/groups?q=`, a quarter second after the last key): the arrow keys move
 * through the list, Enter takes one, Escape closes it. Typing stays free: when the
 * directory can't search its groups, the field says so once and stops asking.
 * The field must already be in its row (the list goes right after it).
 */
export function groupSearch(input: HTMLInputElement, search: (q: string) => Promise<string[]>): void {
  const listId = nextId("groups");
  const list = h("ul", { class: "combo-list", id: listId, role: "listbox", "aria-label": "Matching groups", hidden: true });
  const live = h("span", { class: "sr-only", "aria-live": "polite" });
  const note = h("p", { class: "form-hint combo-note", id: `${listId}-note`, hidden: true });
  const wrap = h("div", { class: "combo" });
  input.parentNode?.insertBefore(wrap, input);
  wrap.append(input, list, live);
  wrap.after(note);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listId);
  input.setAttribute("autocomplete", "off");
  input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), note.id].filter(Boolean).join(" "));

  let options: string[] = [];
  let active = -1;
  let timer = 0;
  let asked = 0;
  let off = false;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const mark = () => {
    const items = Array.from(list.children) as HTMLElement[];
    items.forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    if (active >= 0 && items[active]) {
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  };
  const choose = (name: string) => {
    input.value = name;
    close();
    fill(live, `${name} chosen`);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const show = (q: string) => {
    const lower = q.toLowerCase();
    fill(
      list,
      ...options.map((name, i) => {
        // The typed part in bold.
        const at = name.toLowerCase().indexOf(lower);
        const text: Child[] = at < 0 ? [name] : [name.slice(0, at), h("mark", {}, name.slice(at, at + q.length)), name.slice(at + q.length)];
        const li = h("li", { id: `${listId}-${i}`, role: "option", class: "combo-option", "aria-selected": "false", "data-group": name }, ...text);
        li.addEventListener("mousedown", (e) => {
          e.preventDefault();
          choose(name);
        });
        return li;
      }),
    );
    active = -1;
    if (options.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else close();
    mark();
  };
  const say = (text: string) => {
    fill(note, text);
    note.hidden = !text;
  };

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const q = input.value.trim();
    if (off) return;
    if (!q || q.length > 64) {
      options = [];
      close();
      say("");
      return;
    }
    timer = window.setTimeout(() => {
      const mine = ++asked;
      search(q).then(
        (found) => {
          if (mine !== asked || document.activeElement !== input) return;
          options = found;
          show(q);
          say(found.length ? "" : `No group's name contains \u201c${q}\u201d. You can still type the exact name.`);
          fill(live, found.length ? `${plural(found.length, "group")} found; use the arrow keys to choose` : "");
        },
        (e: unknown) => {
          if (mine !== asked || ended(e)) return;
          options = [];
          close();
          if (e instanceof ApiError && e.status === 400) {
            // This directory can't search its groups: typing it is the way.
            off = true;
            say(e.body.message);
          } else say("The groups couldn't be searched just now. Type the group's name as the directory has it.");
        },
      );
    }, 250);
  });
  input.addEventListener("keydown", (e) => {
    const open = !list.hidden;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!options.length) return;
      e.preventDefault();
      if (!open) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      const n = options.length;
      active = e.key === "ArrowDown" ? (active + 1) % n : active <= 0 ? n - 1 : active - 1;
      mark();
    } else if (e.key === "Enter" && open && active >= 0) {
      e.preventDefault();
      choose(options[active]);
    } else if (e.key === "Escape" && open) {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  input.addEventListener("blur", () => window.setTimeout(close, 100));
}
