// The policy pages: Properties, Authentication methods, Password rules, Registration,
// Notifications and Customization. Each shows its part of the policy in force
// (`GET /v1/admin/policy`) and saves only the keys it changed (`PUT /v1/admin/policy`), over
// the version it showed.
import { get, put, query } from "./admin-api";
import { canEditPolicy, type Ctx } from "./admin-ctx";
import { kioskPreview, type PreviewValues } from "./admin-preview";
import {
  alert,
  btn,
  busy,
  checkbox,
  duration,
  ended,
  errorBox,
  fieldRow,
  fill,
  groupSearch,
  h,
  isApi,
  loading,
  METHOD_LABEL,
  methodLabel,
  nextId,
  panel,
  plural,
  radios,
  textInput,
  viewHead,
  when,
  type Child,
} from "./admin-ui";
import type { DirectoryStatus, MethodKind, PolicyView } from "./types";

export type PolicyPage = "properties" | "methods" | "password-rules" | "registration" | "notifications" | "customization";

type Doc = Record<string, Record<string, unknown>>;

/** One setting: its editor, its value now, how it reads when it can't be edited. */
interface Control {
  path: string;
  label: string;
  el: HTMLElement;
  value: () => unknown;
  show: (v: unknown) => Child;
  /** Why the value can't be saved as typed (checked before sending). */
  check?: () => string | null;
  focus?: () => void;
}

interface Section {
  title: string;
  lead?: Child;
  controls: Control[];
  /** Shown under the controls whether or not they can be edited. */
  extra?: Child;
}

interface Built {
  sections: Section[];
  /** Beside the form (the preview). */
  aside?: HTMLElement;
  /** Called when a control changes (the preview follows). */
  changed?: () => void;
}

/** What a page reads besides the policy (Password rules: the directories' own rules). */
interface Extra {
  /** null: they couldn't be read. */
  directories?: DirectoryStatus[] | null;
}

interface Spec {
  title: string;
  lead: string;
  build: (doc: Doc, view: PolicyView, editable: boolean, extra: Extra) => Built;
  preload?: () => Promise<Extra>;
  /** Sections sent whole when one of their keys changes (a version may lack them). */
  whole?: string[];
}

function at(doc: Doc, path: string): unknown {
  const parts = path.split(".");
  const v = doc[parts[0]]?.[parts[1]];
  return v === undefined ? null : v;
}

/** JSON with each object's keys in order: the document may hold them in another order than a control builds them. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_key, x: unknown) => {
    if (!x || typeof x !== "object" || Array.isArray(x)) return x;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(x).sort()) sorted[k] = (x as Record<string, unknown>)[k];
    return sorted;
  });
}

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

const yesNo = (v: unknown) => (v ? "Yes" : "No");

// ---- controls --------------------------------------------------------------------------

function checkControl(path: string, label: string, v: unknown, hint?: string): Control {
  const c = checkbox(path, label, !!v, hint);
  c.input.setAttribute("data-path", path);
  return { path, label, el: h("div", { class: "form-row form-row-check" }, h("div", { class: "form-control" }, c.el)), value: () => c.input.checked, show: yesNo, focus: () => c.input.focus() };
}

function numberControl(path: string, label: string, v: unknown, min: number, max: number, unit: "seconds" | "days" | "characters", hint: string): Control {
  const input = textInput({ id: nextId(path.replace(".", "-")), inputmode: "numeric", class: "input input-num", value: String(v ?? ""), "data-path": path, "aria-label": undefined });
  const suffix = h("span", { class: "input-suffix" }, unit);
  const live = h("span", { class: "input-live" });
  const read = () => Number(input.value.trim());
  const say = () => {
    const n = read();
    fill(live, unit === "seconds" && Number.isInteger(n) && n >= 60 ? `= ${duration(n)}` : "");
  };
  input.addEventListener("input", say);
  say();
  return {
    path,
    label,
    el: fieldRow(label, input, hint, h("span", { class: "input-after" }, suffix, live)),
    value: () => {
      const n = read();
      return input.value.trim() !== "" && Number.isInteger(n) ? n : input.value;
    },
    show: (x) =>
      unit === "seconds" ? `${x} s${Number(x) >= 60 ? ` (${duration(Number(x))})` : ""}` : unit === "characters" ? `${x} characters` : Number(x) === 0 ? "Never ask" : `${x} days`,
    check: () => {
      const n = read();
      return input.value.trim() !== "" && Number.isInteger(n) && n >= min && n <= max ? null : `${label}: enter a whole number from ${min} to ${max}.`;
    },
    focus: () => input.focus(),
  };
}

function radioControl(path: string, label: string, v: unknown, options: { value: string; label: string; hint?: string }[], hint?: string, asNumber = false, inline = false): Control {
  const r = radios(path.replace(".", "-"), label, options, String(v), hint, inline);
  for (const i of r.inputs) i.setAttribute("data-path", path);
  return {
    path,
    label,
    el: r.el,
    value: () => (asNumber ? Number(r.value()) : r.value()),
    show: (x) => options.find((o) => o.value === String(x))?.label ?? String(x),
    focus: () => (r.inputs.find((i) => i.checked) ?? r.inputs[0])?.focus(),
  };
}

function textControl(path: string, label: string, v: unknown, attrs: Record<string, string | number>, hint?: string, check?: (s: string) => string | null, nullable = false): Control {
  const input = textInput({ value: typeof v === "string" ? v : "", "data-path": path, ...attrs });
  return {
    path,
    label,
    el: fieldRow(label, input, hint),
    value: () => {
      const s = input.value.trim();
      return nullable && !s ? null : s;
    },
    show: (x) => (typeof x === "string" && x ? x : h("span", { class: "none" }, "Not set")),
    check: check ? () => check(input.value.trim()) : undefined,
    focus: () => input.focus(),
  };
}

// ---- the pages -------------------------------------------------------------------------

function properties(doc: Doc): Built {
  const p = doc.policy ?? {};
  // Who may use self-service: the group's name goes with its choice.
  const enabled = radios(
    "policy-enabled",
    "Self-service password reset is",
    [
      { value: "none", label: "Off", hint: "Nobody can use the kiosks." },
      { value: "group", label: "On for members of a group", hint: "Only members of the group you name (nested groups count)." },
      { value: "all", label: "On for everyone", hint: "Everyone in the directories who registered methods." },
    ],
    String(p.enabled ?? "all"),
  );
  for (const i of enabled.inputs) i.setAttribute("data-path", "policy.enabled");
  const group = textInput({ id: "policy-group", value: String(p.group ?? ""), "data-path": "policy.group", maxlength: 256 });
  const groupRow = h("div", { class: "nested", id: "group-row" }, fieldRow("Group", group, "Type part of its name to pick it from the directory, e.g. SSPR Users."));
  groupSearch(group, (q) => get<string[]>(`/v1/admin/groups${query({ q })}`));
  const sync = () => {
    const on = enabled.value() === "group";
    groupRow.hidden = !on;
    group.disabled = !on;
  };
  for (const i of enabled.inputs) i.addEventListener("change", sync);
  sync();
  // Right under its choice.
  const groupChoice = enabled.inputs.find((i) => i.value === "group")?.closest(".check");
  groupChoice?.parentNode?.insertBefore(groupRow, groupChoice.nextSibling);
  const enabledCtl: Control = {
    path: "policy.enabled",
    label: "Self-service",
    el: enabled.el,
    value: enabled.value,
    show: (v) => (v === "none" ? "Off" : v === "group" ? `On for members of ${String(p.group ?? "")}` : "On for everyone"),
    focus: () => enabled.inputs[0]?.focus(),
  };
  const groupCtl: Control = {
    path: "policy.group",
    label: "Group",
    el: h("span"),
    value: () => group.value.trim(),
    show: (v) => String(v ?? ""),
    check: () => (enabled.value() === "group" && !group.value.trim() ? "Enter the group whose members may use self-service." : null),
    focus: () => group.focus(),
  };
  return {
    sections: [
      { title: "Who can use it", controls: [enabledCtl, groupCtl] },
      {
        title: "What they can do",
        controls: [
          checkControl("policy.allow_unlock", "Allow unlocking without a reset", p.allow_unlock, "People who are locked out can unlock their account and keep their password."),
          checkControl(
            "policy.admins_allowed",
            "Administrators may use self-service",
            p.admins_allowed,
            `Members of ${list(p.admin_groups)} always verify two methods and never use security questions. Off: they go to the helpdesk.`,
          ),
        ],
      },
    ],
  };
}

function list(v: unknown): string {
  const a = Array.isArray(v) ? (v as string[]) : [];
  if (!a.length) return "the administrator groups";
  if (a.length === 1) return a[0];
  return `${a.slice(0, -1).join(", ")} and ${a[a.length - 1]}`;
}

function methods(doc: Doc, view: PolicyView): Built {
  const p = doc.policy ?? {};
  const a = doc.approval ?? {};
  const enabled = Array.isArray(p.methods) ? (p.methods as MethodKind[]) : [];
  const known = view.known_methods.length ? view.known_methods : (Object.keys(METHOD_LABEL) as MethodKind[]);
  const available = view.available_methods ?? known;
  const boxes = known.map((m) => {
    const ready = available.includes(m);
    const c = checkbox(`method-${m}`, methodLabel(m), enabled.includes(m), ready ? undefined : "Not available yet");
    // One this server can't offer can't be turned on (one already on can be turned off).
    if (!ready) {
      c.el.classList.add("check-unavailable");
      c.el.setAttribute("data-unavailable", "");
      if (!enabled.includes(m)) c.input.disabled = true;
    }
    c.input.setAttribute("data-method", m);
    c.input.setAttribute("data-path", "policy.methods");
    return { m, c };
  });
  const methodsCtl: Control = {
    path: "policy.methods",
    label: "Methods",
    el: h(
      "fieldset",
      { class: "form-row choice-set" },
      h("legend", { class: "form-label" }, "Methods people can use"),
      h("div", { class: "form-control method-grid" }, ...boxes.map((b) => b.c.el)),
    ),
    // The order in force stays; a method turned on goes last.
    value: () => {
      const on = boxes.filter((b) => b.c.input.checked).map((b) => b.m);
      return [...enabled.filter((m) => on.includes(m)), ...on.filter((m) => !enabled.includes(m))];
    },
    show: (v) =>
      Array.isArray(v) && v.length
        ? h("span", { class: "chips" }, ...(v as string[]).map((m) => h("span", { class: "chip" }, methodLabel(m))))
        : h("span", { class: "none" }, "None"),
    check: () => (boxes.some((b) => b.c.input.checked) ? null : "Turn on at least one method."),
    focus: () => boxes[0]?.c.input.focus(),
  };
  return {
    sections: [
      {
        title: "Methods",
        controls: [
          methodsCtl,
          radioControl(
            "policy.methods_required",
            "Methods required",
            p.methods_required ?? 1,
            [
              { value: "1", label: "One method" },
              { value: "2", label: "Two methods", hint: "Stronger: a lost phone alone isn't enough." },
            ],
            undefined,
            true,
          ),
        ],
        extra: h(
          "p",
          { class: "fixed-note", id: "admin-note" },
          h("span", { class: "fixed-note-label" }, "Fixed: "),
          `Administrators (members of ${list(p.admin_groups)}) always verify two methods and never use security questions.`,
        ),
      },
      {
        title: "Security questions",
        lead: "Used when “Security questions” is on above. Never enough on their own: with them on, two methods are required. Administrators are never asked them.",
        controls: [questionsControl(p.questions)],
      },
      {
        title: "Codes sent by email or text",
        controls: [
          radioControl(
            "policy.code_length",
            "Code length",
            p.code_length ?? 6,
            [
              { value: "6", label: "6 digits" },
              { value: "7", label: "7 digits" },
              { value: "8", label: "8 digits" },
            ],
            undefined,
            true,
            true,
          ),
          numberControl("policy.code_ttl_secs", "Code lifetime", p.code_ttl_secs, 1, 900, "seconds", "How long a sent code can be used: 1 to 900 seconds (15 minutes)."),
        ],
      },
      {
        title: "Approve on phone",
        lead: "The person scans a QR code at the kiosk and approves with the passkey on their phone.",
        controls: [
          radioControl("approval.password_on_phone", "New password typed on the phone", a.password_on_phone ?? "offer", [
            { value: "off", label: "Off", hint: "The new password is always typed at the kiosk." },
            { value: "offer", label: "Offer", hint: "The person chooses: at the kiosk or on their phone." },
            { value: "always", label: "Always", hint: "The new password is always typed on the phone, where nobody nearby sees it." },
          ]),
          numberControl("approval.ttl_secs", "QR code lifetime", a.ttl_secs, 10, 900, "seconds", "How long an approval QR code can be scanned."),
        ],
      },
    ],
  };
}

// ---- security questions ------------------------------------------------------------------

/** `policy.questions` as the document has it. */
type QuestionsDoc = { register: number; ask: number; own_allowed: boolean; list: { id: string; text: Record<string, string> }[] };

/** The server's rules (methods/questions/policy.rs), checked before sending; it checks them again. */
const Q_ID = /^[a-z0-9-]{1,40}$/;
const Q_MIN = 10;
const Q_MAX = 200;

/**
 * `policy.questions` whole: how many each person answers, how many the kiosk asks, whether
 * people may write their own, and the organisation's list (id, English, German; other
 * languages a question has are kept as they are).
 */
function questionsControl(v: unknown): Control {
  const q = (v && typeof v === "object" ? v : {}) as Partial<QuestionsDoc>;
  const list = Array.isArray(q.list) ? q.list : [];
  const numbers = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ value: String(from + i), label: String(from + i) }));
  const register = radios("questions-register", "Questions each person answers", numbers(3, 5), String(q.register ?? 3), "Chosen and answered on \u201cMy security info\u201d.", true);
  const ask = radios("questions-ask", "Questions asked at the kiosk", numbers(1, 5), String(q.ask ?? 3), "All of them must be answered right. No more than each person answers.", true);
  const own = checkbox("questions-own", "People may write questions of their own", !!q.own_allowed, "Beside the list below.");
  for (const i of [...register.inputs, ...ask.inputs, own.input]) i.setAttribute("data-path", "policy.questions");

  type Row = { el: HTMLElement; id: HTMLInputElement; en: HTMLInputElement; de: HTMLInputElement; other: Record<string, string> };
  const rows: Row[] = [];
  const body = h("div", { class: "q-rows", id: "questions-list" });
  const changed = () => body.dispatchEvent(new Event("change", { bubbles: true }));
  const addRow = (item?: { id: string; text: Record<string, string> }) => {
    const n = nextId("q");
    const other: Record<string, string> = {};
    for (const [k, t] of Object.entries(item?.text ?? {})) if (k !== "en" && k !== "de") other[k] = t;
    const id = textInput({ value: item?.id ?? "", maxlength: 40, class: "input q-id", "aria-label": "Id", "data-q": "id", id: `${n}-id` });
    const en = textInput({ value: item?.text.en ?? "", maxlength: Q_MAX, class: "input", "aria-label": "English", "data-q": "en", spellcheck: "true" });
    const de = textInput({ value: item?.text.de ?? "", maxlength: Q_MAX, class: "input", "aria-label": "German", "data-q": "de", spellcheck: "true", lang: "de" });
    const remove = btn("Remove", { class: "btn-small", "data-q-remove": "" });
    const texts = h(
      "div",
      { class: "q-texts" },
      h("div", { class: "q-text" }, h("span", { class: "q-lang", "aria-hidden": "true" }, "EN"), en),
      h("div", { class: "q-text" }, h("span", { class: "q-lang", "aria-hidden": "true" }, "DE"), de),
    );
    const row: Row = { el: h("div", { class: "q-row", "data-q-row": "" }, id, texts, remove), id, en, de, other };
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
      changed();
      (rows[0]?.id ?? add).focus();
    });
    rows.push(row);
    body.appendChild(row.el);
    return row;
  };
  for (const item of list) addRow(item);
  const add = btn("Add a question", { id: "questions-add" });
  add.addEventListener("click", () => {
    addRow().id.focus();
    changed();
  });

  // The field a failed check is about, for `focus`.
  let culprit: HTMLElement | null = null;
  const value = (): QuestionsDoc => ({
    register: Number(register.value()),
    ask: Number(ask.value()),
    own_allowed: own.input.checked,
    list: rows.map((r) => {
      const text: Record<string, string> = { ...r.other, en: r.en.value.trim() };
      if (r.de.value.trim()) text.de = r.de.value.trim();
      return { id: r.id.value.trim(), text };
    }),
  });
  const listEditor = h(
    "div",
    { class: "form-row" },
    h("label", { class: "form-label", for: rows[0]?.id.id ?? "questions-add" }, "The organisation\u2019s questions"),
    h(
      "div",
      { class: "form-control" },
      h("div", { class: "q-row q-head", "aria-hidden": "true" }, h("span", {}, "Id"), h("span", {}, "Question, in English and German"), h("span", {})),
      body,
      h("div", { class: "q-add" }, add),
      h("p", { class: "form-hint" }, `Ids are 1 to 40 of a-z, 0-9 and -, and stay when a text is reworded (registrations keep them). Each text is ${Q_MIN} to ${Q_MAX} characters; English is required. Choose questions whose answers people keep for life and others can't look up.`),
    ),
  );
  return {
    path: "policy.questions",
    label: "Security questions",
    el: h("div", { class: "q-control", id: "questions-control" }, register.el, ask.el, h("div", { class: "form-row form-row-check" }, h("div", { class: "form-control" }, own.el)), listEditor),
    value,
    show: (x) => {
      const d = (x && typeof x === "object" ? x : {}) as Partial<QuestionsDoc>;
      const l = Array.isArray(d.list) ? d.list : [];
      return h(
        "div",
        {},
        h("p", {}, `${String(d.register ?? 3)} answered, ${String(d.ask ?? 3)} asked at the kiosk; questions of their own: ${yesNo(d.own_allowed)}.`),
        l.length ? h("ol", { class: "q-show" }, ...l.map((i) => h("li", {}, i.text.en ?? i.id))) : h("span", { class: "none" }, "No questions listed"),
      );
    },
    check: () => {
      const d = value();
      culprit = ask.inputs.find((i) => i.checked) ?? null;
      if (d.ask > d.register) return `Security questions: the kiosk can ask at most the ${d.register} each person answers.`;
      const seen: string[] = [];
      for (const [i, item] of d.list.entries()) {
        const which = `Security question ${i + 1}`;
        const row = rows[i];
        culprit = row.id;
        if (!Q_ID.test(item.id)) return `${which}: the id is 1 to 40 of a-z, 0-9 and -.`;
        if (seen.includes(item.id)) return `${which}: the id \u201c${item.id}\u201d is used twice.`;
        seen.push(item.id);
        for (const [lang, text] of Object.entries(item.text)) {
          culprit = lang === "de" ? row.de : row.en;
          if (text.length < Q_MIN || text.length > Q_MAX) return `${which} (${lang}): write ${Q_MIN} to ${Q_MAX} characters.`;
        }
        culprit = row.en;
        if (!item.text.en) return `${which}: the English text is required.`;
      }
      culprit = null;
      return null;
    },
    focus: () => (culprit ?? register.inputs[0])?.focus(),
  };
}

// ---- password rules --------------------------------------------------------------------

/** What the server takes: at most 5,000 terms of at most 64 characters. */
const BANNED_MAX = 5000;
const TERM_MAX = 64;
/** Shorter terms are too common to refuse: the server leaves them out. */
const TERM_MIN = 4;
/** Terms drawn at once (the rest are found with the search field). */
const TERMS_SHOWN = 200;

const hasControl = (t: string) => /[\u0000-\u001f\u007f-\u009f]/.test(t);

function termProblem(t: string): string | null {
  if (!t) return "Type a term first.";
  if ([...t].length > TERM_MAX) return `\u201c${t.slice(0, 24)}\u2026\u201d is longer than ${TERM_MAX} characters.`;
  if (hasControl(t)) return "A term can't hold tabs or other control characters.";
  if ([...t].length < TERM_MIN) return `\u201c${t}\u201d is shorter than ${TERM_MIN} characters: terms that short are too common to refuse, and the server leaves them out.`;
  return null;
}

/** The organisation's banned terms: add one, upload a list, find, remove. */
function bannedControl(v: unknown): Control {
  const terms: string[] = Array.isArray(v) ? (v as unknown[]).filter((t): t is string => typeof t === "string") : [];
  const key = (t: string) => t.toLowerCase();
  const input = textInput({ id: "banned-term", maxlength: 200, placeholder: "e.g. examplecorp" });
  const add = btn("Add", { id: "banned-add" });
  const file = h("input", { type: "file", id: "banned-file", accept: ".txt,text/plain", hidden: true, "aria-label": "A list of terms, one a line (.txt)" }) as HTMLInputElement;
  const upload = btn("Upload a list\u2026", { id: "banned-upload" });
  const clear = btn("Remove all", { id: "banned-clear", class: "btn-danger-quiet" });
  const find = textInput({ id: "banned-find", type: "search", placeholder: "Find a term", "aria-label": "Find a term in the list" });
  const count = h("p", { class: "terms-count", id: "banned-count" });
  const list = h("ul", { class: "terms", id: "banned-list", "aria-label": "Banned terms" });
  const more = h("p", { class: "muted terms-more" });
  const msg = h("div", { class: "terms-msg", id: "banned-msg", "aria-live": "polite" });
  const el = h(
    "div",
    { class: "form-row terms-row" },
    h("label", { class: "form-label", for: "banned-term" }, "Add a term"),
    h(
      "div",
      { class: "form-control" },
      h("div", { class: "terms-add" }, input, add, upload, file),
      h("p", { class: "form-hint" }, `Or upload a .txt file, one term a line. ${TERM_MIN} to ${TERM_MAX} characters each, at most ${BANNED_MAX.toLocaleString()} terms; capitals don't matter.`),
      msg,
      h("div", { class: "terms-bar" }, count, find, clear),
      list,
      more,
    ),
  );
  const changed = () => el.dispatchEvent(new Event("change", { bubbles: true }));
  const say = (tone: "ok" | "error" | "info", title: string, text?: string) => fill(msg, alert(tone, title, text));
  const draw = () => {
    const q = find.value.trim().toLowerCase();
    const matching = terms.filter((t) => !q || t.toLowerCase().includes(q)).sort((a, b) => a.localeCompare(b));
    const shown = matching.slice(0, TERMS_SHOWN);
    fill(count, terms.length ? h("span", {}, h("span", { class: "strong" }, plural(terms.length, "term")), ` of ${BANNED_MAX.toLocaleString()}`) : h("span", { class: "none" }, "No terms of your own yet."));
    find.hidden = terms.length < 12;
    clear.hidden = terms.length === 0;
    fill(
      list,
      ...shown.map((t) => {
        const x = h("button", { type: "button", class: "term-x", "aria-label": `Remove ${t}`, "data-remove": t }, "\u00d7");
        x.addEventListener("click", () => {
          const i = terms.indexOf(t);
          if (i >= 0) terms.splice(i, 1);
          draw();
          changed();
          fill(msg);
          (list.querySelector<HTMLElement>(".term-x") ?? input).focus();
        });
        return h("li", { class: "term", "data-term": t }, h("span", { class: "term-text" }, t), x);
      }),
    );
    fill(more, matching.length > shown.length ? `And ${plural(matching.length - shown.length, "more term")}: find one to see it.` : q && !matching.length ? `No term contains \u201c${find.value.trim()}\u201d.` : "");
  };
  const addOne = () => {
    const t = input.value.trim();
    const why = termProblem(t);
    if (why) {
      say("error", "Not added", why);
      input.focus();
      return;
    }
    if (terms.some((x) => key(x) === key(t))) {
      say("info", `\u201c${t}\u201d is on the list already`);
      return;
    }
    if (terms.length >= BANNED_MAX) {
      say("error", "The list is full", `It holds at most ${BANNED_MAX.toLocaleString()} terms. Remove some first.`);
      return;
    }
    terms.push(t);
    input.value = "";
    fill(msg);
    draw();
    changed();
    input.focus();
  };
  add.addEventListener("click", addOne);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      addOne();
    }
  });
  find.addEventListener("input", draw);
  // Enter in the search field finds; it doesn't save the page.
  find.addEventListener("keydown", (e) => {
    if (e.key === "Enter") e.preventDefault();
  });
  upload.addEventListener("click", () => file.click());
  file.addEventListener("change", () => {
    const f = file.files?.[0];
    file.value = "";
    if (!f) return;
    if (f.size > 1024 * 1024) {
      say("error", `${f.name} wasn't read`, `It is ${(f.size / 1048576).toFixed(1)} MB; a list of ${BANNED_MAX.toLocaleString()} terms fits in far less. Use a plain text file, one term a line.`);
      return;
    }
    const reader = new FileReader();
    reader.onerror = () => say("error", `${f.name} couldn't be read`, "Try again, or save it as plain text (UTF-8), one term a line.");
    reader.onload = () => {
      const lines = String(reader.result ?? "")
        .replace(/^\ufeff/, "")
        .split(/\r\n|\n|\r/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"));
      const tooLong = lines.map((l, i) => ({ l, i })).filter((x) => [...x.l].length > TERM_MAX || hasControl(x.l));
      if (tooLong.length) {
        say(
          "error",
          `${f.name} wasn't added`,
          `${plural(tooLong.length, "line")} ${tooLong.length === 1 ? "is" : "are"} longer than ${TERM_MAX} characters or hold${tooLong.length === 1 ? "s" : ""} control characters, e.g. \u201c${tooLong[0].l.slice(0, 32)}${tooLong[0].l.length > 32 ? "\u2026" : ""}\u201d. Fix the file and upload it again.`,
        );
        return;
      }
      const have = new Set(terms.map(key));
      let short = 0;
      let dup = 0;
      const fresh: string[] = [];
      for (const l of lines) {
        if ([...l].length < TERM_MIN) short++;
        else if (have.has(key(l))) dup++;
        else {
          have.add(key(l));
          fresh.push(l);
        }
      }
      if (terms.length + fresh.length > BANNED_MAX) {
        say("error", `${f.name} wasn't added`, `The list would hold ${(terms.length + fresh.length).toLocaleString()} terms; it holds at most ${BANNED_MAX.toLocaleString()}. Shorten the file, or remove terms first.`);
        return;
      }
      terms.push(...fresh);
      draw();
      changed();
      const left: string[] = [];
      if (dup) left.push(`${plural(dup, "term")} already on the list`);
      if (short) left.push(`${plural(short, "term")} shorter than ${TERM_MIN} characters`);
      say(fresh.length ? "ok" : "info", `${plural(fresh.length, "term")} added from ${f.name}`, left.length ? `Left out: ${left.join("; ")}. Save to put them in force.` : "Save to put them in force.");
    };
    reader.readAsText(f);
  });
  clear.addEventListener("click", () => {
    const n = terms.length;
    terms.splice(0, n);
    find.value = "";
    draw();
    changed();
    say("info", `${plural(n, "term")} removed`, "Discard the changes to get them back.");
  });
  draw();
  return {
    path: "password.banned",
    label: "Banned terms",
    el,
    value: () => terms.slice(),
    show: (x) => {
      const a = Array.isArray(x) ? (x as string[]) : [];
      if (!a.length) return h("span", { class: "none" }, "None of your own");
      const sorted = a.slice().sort((p, q) => p.localeCompare(q));
      return h("span", { class: "chips", id: "banned-list" }, ...sorted.slice(0, 60).map((t) => h("span", { class: "chip chip-plain" }, t)), sorted.length > 60 ? h("span", { class: "muted" }, `and ${plural(sorted.length - 60, "more")}`) : null);
    },
    check: () => (terms.length > BANNED_MAX ? `Banned terms: at most ${BANNED_MAX.toLocaleString()} (there are ${terms.length.toLocaleString()}).` : terms.some((t) => [...t].length > TERM_MAX) ? `Banned terms: each at most ${TERM_MAX} characters.` : null),
    focus: () => input.focus(),
  };
}

function directoryRules(list: DirectoryStatus[] | null | undefined): HTMLElement {
  if (!list) return alert("warn", "The directories' rules couldn't be read", "They still apply: each directory checks its rules when a password is written.");
  if (!list.length) return h("p", { class: "muted", id: "directory-rules" }, "No directories configured.");
  return h(
    "dl",
    { class: "facts", id: "directory-rules" },
    ...list.map((d) =>
      h(
        "div",
        { class: "fact", "data-directory": d.name },
        h("dt", {}, d.name),
        h("dd", {}, d.rules ? (d.rules === "none of its own" ? h("span", { class: "none" }, "None of its own") : d.rules) : h("span", { class: "none" }, "Couldn't be read from the directory")),
      ),
    ),
  );
}

function passwordRules(doc: Doc, _view: PolicyView, _editable: boolean, extra: Extra): Built {
  const p = doc.password ?? {};
  const min = numberControl("password.min_length", "Shortest password", p.min_length, 8, 1024, "characters", "At least 8. Fifteen or more lets people use a few plain words, which are easier to remember and harder to guess.");
  const max = numberControl("password.max_length", "Longest password", p.max_length, 8, 1024, "characters", "Up to 1,024. Keep it generous (64 or more) so passphrases and password managers fit.");
  const minCheck = min.check;
  min.check = () => {
    const own = minCheck?.() ?? null;
    if (own) return own;
    const lo = Number(min.value());
    const hi = Number(max.value());
    return Number.isInteger(hi) && lo > hi ? `Shortest password: at most the longest (${hi}).` : null;
  };
  return {
    sections: [
      {
        title: "Length",
        lead: "No rules about kinds of character (capitals, digits, symbols): length protects better, as NIST SP 800-63B advises.",
        controls: [min, max],
      },
      {
        title: "Banned terms",
        lead: "Your organisation's name, products, places: a new password can't be little more than these (fewer than 8 other characters), though a long passphrase may hold one. Common passwords and the person's own names are refused anyway.",
        controls: [bannedControl(p.banned)],
      },
      {
        title: "Each directory's own rules",
        lead: "Read from the directories. They apply too: the kiosk shows them before the person types, and a directory refuses a password that breaks them.",
        controls: [],
        extra: directoryRules(extra.directories),
      },
    ],
  };
}

function registration(doc: Doc): Built {
  const p = doc.policy ?? {};
  return {
    sections: [
      {
        title: "Keeping methods current",
        lead: "A phone number or address someone no longer has is a way in for whoever has it now. \u201cMy security info\u201d asks people to confirm their methods every so often.",
        controls: [numberControl("policy.reconfirm_days", "Ask to confirm methods every", p.reconfirm_days, 0, 730, "days", "0 to 730 days; 0 never asks.")],
      },
    ],
  };
}

function notifications(doc: Doc, view: PolicyView): Built {
  const p = doc.policy ?? {};
  const admins = view.notified_admins ?? [];
  return {
    sections: [
      {
        title: "Emails",
        controls: [
          checkControl("policy.notify_user", "Tell the person after a reset or unlock", p.notify_user, "An email to their work address: if it wasn't them, they know at once."),
          checkControl(
            "policy.notify_admins_on_admin_reset",
            "Tell every administrator when an administrator resets",
            p.notify_admins_on_admin_reset,
            `An email to each member of ${list(p.admin_groups)}.`,
          ),
        ],
      },
      {
        title: "Administrators who are told",
        controls: [],
        extra: admins.length
          ? h(
              "ul",
              { class: "people", id: "notified-admins" },
              ...admins.map((a) => {
                const m = /^(.*?)\s*<([^>]+)>\s*$/.exec(a);
                return h("li", {}, m ? h("span", { class: "person-name" }, m[1] || m[2]) : a, m && m[1] ? h("span", { class: "person-mail" }, m[2]) : null);
              }),
            )
          : h(
              "p",
              { class: "muted", id: "notified-admins" },
              p.notify_admins_on_admin_reset ? `Nobody: no member of ${list(p.admin_groups)} has an email address in the directory.` : "Nobody, while the setting above is off.",
            ),
      },
    ],
  };
}

// ---- the logo --------------------------------------------------------------------------

/** What the server takes (decoded). */
const LOGO_MAX = 40 * 1024;

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 0x8000)));
  return btoa(bin);
}

/** The size a data URL decodes to. */
function decodedSize(url: string): number {
  const b64 = url.slice(url.indexOf(",") + 1);
  return Math.floor((b64.length * 3) / 4) - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);
}

/**
 * The logo: a PNG or SVG read in the browser as a data URL (the server checks it again and
 * says why when it refuses one), or none (the kiosk shows the name's initial).
 */
function logoControl(v: unknown): Control {
  let value: string | null = typeof v === "string" && v.startsWith("data:") ? v : null;
  const file = h("input", { type: "file", id: "logo-file", accept: "image/png,image/svg+xml,.png,.svg", hidden: true, "aria-label": "A logo file (PNG or SVG)" }) as HTMLInputElement;
  const upload = btn("Upload a logo\u2026", { id: "logo-upload" });
  const remove = btn("Remove", { id: "logo-remove", class: "btn-danger-quiet" });
  const frame = h("div", { class: "logo-frame", id: "logo-frame" });
  const about = h("p", { class: "logo-about", id: "logo-about" });
  const msg = h("div", { id: "logo-msg", "aria-live": "polite" });
  const el = h(
    "div",
    { class: "form-row" },
    h("span", { class: "form-label", id: "logo-label" }, "Logo"),
    h(
      "div",
      { class: "form-control" },
      h("div", { class: "logo-row" }, frame, h("div", { class: "logo-side" }, about, h("div", { class: "logo-actions" }, upload, remove, file))),
      msg,
      h("p", { class: "form-hint" }, "A PNG, or an SVG of plain drawing (no scripts or links), at most 40 KB. The kiosk shows it 44 pixels high in place of the initial, beside the name."),
    ),
  );
  const draw = () => {
    if (value) {
      const kind = value.startsWith("data:image/svg") ? "SVG" : "PNG";
      fill(frame, h("img", { class: "logo-img", id: "logo-current", src: value, alt: "The logo" }));
      fill(about, h("span", { class: "strong" }, kind), ` \u00b7 ${kb(decodedSize(value))}`);
    } else {
      fill(frame, h("span", { class: "logo-none" }, "No logo"));
      fill(about, "None: the kiosk shows the name's initial.");
    }
    remove.hidden = !value;
  };
  const changed = () => el.dispatchEvent(new Event("change", { bubbles: true }));
  upload.addEventListener("click", () => file.click());
  remove.addEventListener("click", () => {
    value = null;
    fill(msg);
    draw();
    changed();
    upload.focus();
  });
  file.addEventListener("change", () => {
    const f = file.files?.[0];
    file.value = "";
    if (!f) return;
    fill(msg);
    const name = f.name.toLowerCase();
    const svgName = name.endsWith(".svg") || f.type === "image/svg+xml";
    const pngName = name.endsWith(".png") || f.type === "image/png";
    if (!svgName && !pngName) {
      fill(msg, alert("error", `${f.name} wasn't used`, "Use a PNG or an SVG file."));
      return;
    }
    if (f.size > LOGO_MAX) {
      fill(msg, alert("error", `${f.name} is too large`, `It is ${kb(f.size)}; a logo may be 40 KB at most. Export a smaller PNG, or simplify the SVG.`));
      return;
    }
    const reader = new FileReader();
    reader.onerror = () => fill(msg, alert("error", `${f.name} couldn't be read`, "Try again."));
    reader.onload = () => {
      const bytes = new Uint8Array(reader.result as ArrayBuffer);
      const png = bytes.length > 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b);
      const svg = !png && /<svg[\s>]/i.test(new TextDecoder().decode(bytes));
      if (!png && !svg) {
        fill(msg, alert("error", `${f.name} wasn't used`, svgName ? "It doesn't read as an SVG drawing." : "It isn't a PNG image inside, whatever its name says."));
        return;
      }
      value = `data:image/${png ? "png" : "svg+xml"};base64,${base64(bytes)}`;
      draw();
      changed();
      fill(msg, alert("ok", `${f.name} is in the preview`, "Save to send it to the kiosks; the server checks it first."));
    };
    reader.readAsArrayBuffer(f);
  });
  draw();
  return {
    path: "organization.logo",
    label: "Logo",
    el,
    value: () => value,
    show: (x) => (typeof x === "string" && x ? h("span", { class: "logo-frame logo-frame-small" }, h("img", { class: "logo-img", src: x, alt: "The logo" })) : h("span", { class: "none" }, "None (the name's initial)")),
    focus: () => upload.focus(),
  };
}

function customization(doc: Doc, _view: PolicyView, editable: boolean): Built {
  const o = doc.organization ?? {};
  const d = doc.helpdesk ?? {};
  const logo = logoControl(o.logo);
  const name = textControl("organization.name", "Organization name", o.name, { maxlength: 100, id: "org-name" }, "Shown at the top of every kiosk screen and on the phone pages.", (s) => (s ? null : "Enter the organization's name."));

  // The accent colour: a colour picker and its #rrggbb text, kept in step.
  const accentValue = typeof o.accent_color === "string" ? o.accent_color : "#0b5cad";
  const text = textInput({ id: "accent-text", value: accentValue, maxlength: 7, class: "input input-color-text", "data-path": "organization.accent_color", "aria-label": "Accent colour as #rrggbb" });
  const picker = h("input", { type: "color", id: "accent-picker", class: "color", value: /^#[0-9a-f]{6}$/i.test(accentValue) ? accentValue : "#0b5cad", "aria-label": "Pick the accent colour" }) as HTMLInputElement;
  picker.addEventListener("input", () => {
    text.value = picker.value;
    text.dispatchEvent(new Event("input", { bubbles: true }));
  });
  text.addEventListener("input", () => {
    if (/^#[0-9a-f]{6}$/i.test(text.value.trim())) picker.value = text.value.trim().toLowerCase();
  });
  const accentId = nextId("accent");
  const accent: Control = {
    path: "organization.accent_color",
    label: "Accent colour",
    el: h(
      "div",
      { class: "form-row" },
      h("label", { class: "form-label", for: "accent-text", id: accentId }, "Accent colour"),
      h("div", { class: "form-control" }, h("div", { class: "color-row" }, picker, text), h("p", { class: "form-hint" }, "Buttons and the mark on the kiosk, as #rrggbb.")),
    ),
    value: () => text.value.trim().toLowerCase(),
    show: (v) => h("span", { class: "swatch-row" }, swatch(String(v)), String(v)),
    check: () => (/^#[0-9a-f]{6}$/i.test(text.value.trim()) ? null : "Accent colour: use the form #rrggbb, e.g. #0b5cad."),
    focus: () => text.focus(),
  };
  const locale = radioControl(
    "organization.default_locale",
    "Kiosk language",
    o.default_locale ?? "en",
    [
      { value: "en", label: "English" },
      { value: "de", label: "Deutsch" },
      { value: "fr", label: "Français" },
      { value: "es", label: "Español" },
      { value: "it", label: "Italiano" },
      { value: "nl", label: "Nederlands" },
      { value: "pl", label: "Polski" },
    ],
    "The language a kiosk starts in (and of administrators' notices); people can switch on its start screen.",
    false,
    true,
  );
  const url = textControl("helpdesk.url", "Web address", d.url, { type: "url", id: "helpdesk-url", maxlength: 2048, placeholder: "https://help.example.org/password" }, "Shown, and as a QR code, when the kiosk can't help.", (s) => (!s || /^https?:\/\/\S+$/i.test(s) ? null : "Helpdesk web address: start it with https://"), true);
  const phone = textControl("helpdesk.phone", "Phone", d.phone, { type: "tel", id: "helpdesk-phone", maxlength: 64, placeholder: "+49 30 1234 5678" }, undefined, (s) => (!s || /^[+\d][\d\s()./-]{2,}$/.test(s) ? null : "Helpdesk phone: use digits, spaces and a leading +."), true);
  const email = textControl("helpdesk.email", "Email", d.email, { type: "email", id: "helpdesk-email", maxlength: 254, placeholder: "helpdesk@example.org" }, undefined, (s) => (!s || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s) ? null : "Helpdesk email: enter an address like helpdesk@example.org."), true);

  const values = (): PreviewValues => {
    const v = editable ? (c: Control) => c.value() : (c: Control) => at(doc, c.path);
    const s = (x: unknown) => (typeof x === "string" ? x : "");
    return {
      organization: s(v(name)),
      logo: s(v(logo)) || null,
      accent: s(v(accent)),
      locale: s(v(locale)) || "en",
      unlock: !!doc.policy?.allow_unlock,
      helpdesk: { url: s(v(url)), phone: s(v(phone)), email: s(v(email)) },
    };
  };
  const preview = kioskPreview(values());
  return {
    sections: [
      { title: "Organization", controls: [name, logo, accent, locale] },
      { title: "Helpdesk", lead: "Where people get help when the kiosk can't: on the kiosk's help screen and the phone pages.", controls: [url, phone, email] },
    ],
    aside: panel("Preview", preview.el),
    changed: () => preview.update(values()),
  };
}

function swatch(color: string): HTMLElement {
  const s = h("span", { class: "swatch", "aria-hidden": "true" });
  if (/^#[0-9a-f]{6}$/i.test(color)) s.style.background = color;
  return s;
}

const SPECS: Record<PolicyPage, Spec> = {
  properties: { title: "Properties", lead: "Whether self-service is on, for whom, and what it may do.", build: properties },
  methods: { title: "Authentication methods", lead: "How people prove who they are at the kiosk.", build: methods },
  "password-rules": {
    title: "Password rules",
    lead: "What a new password must be: its length, your banned terms, and each directory's own rules.",
    build: passwordRules,
    preload: () => get<DirectoryStatus[]>("/v1/admin/directories").then((directories) => ({ directories }), () => ({ directories: null })),
    whole: ["password"],
  },
  registration: { title: "Registration", lead: "How people keep their methods up to date on \u201cMy security info\u201d.", build: registration },
  notifications: { title: "Notifications", lead: "Who is told by email when a password is reset.", build: notifications },
  customization: { title: "Customization", lead: "What the kiosks and phone pages show: your name, logo, colour, language and helpdesk.", build: customization },
};

// ---- the view --------------------------------------------------------------------------

export async function policyView(ctx: Ctx, page: PolicyPage): Promise<void> {
  const spec = SPECS[page];
  fill(ctx.main, viewHead(spec.title, spec.lead), loading("Loading the policy…"));
  let view: PolicyView;
  let extra: Extra = {};
  try {
    [view, extra] = await Promise.all([get<PolicyView>("/v1/admin/policy"), spec.preload ? spec.preload() : Promise.resolve({})]);
  } catch (e) {
    if (ended(e) || !ctx.current()) return;
    fill(ctx.main, viewHead(spec.title, spec.lead), errorBox(e, "The policy couldn't be loaded"), btn("Try again", { onclick: () => void policyView(ctx, page) }));
    ctx.failed();
    return;
  }
  if (!ctx.current()) return;
  draw(ctx, page, view, null, extra);
}

function versionLine(view: PolicyView): HTMLElement {
  return h(
    "p",
    { class: "version", id: "policy-version" },
    h("span", { class: "version-no" }, `Version ${String(view.version)}`),
    h("span", { class: "version-more" }, " · saved by ", h("span", { class: "version-by" }, view.saved_by || "—"), " · ", when(view.saved_at)),
  );
}

function draw(ctx: Ctx, page: PolicyPage, view: PolicyView, flash: HTMLElement | null, extra: Extra): void {
  const spec = SPECS[page];
  const editable = canEditPolicy(ctx, view.read_only);
  const doc = (view.document ?? {}) as Doc;
  const built = spec.build(doc, view, editable, extra);
  const controls = built.sections.flatMap((s) => s.controls);

  const why =
    ctx.session.policy_read_only
      ? alert(
          "info",
          "Managed as code",
          h("span", {}, "This server's policy is kept in a file and loaded with ", h("code", {}, "sspr-server policy import"), ". The console shows it and doesn't change it."),
        )
      : !editable
        ? alert("info", "View only", "Only console administrators can change the policy.")
        : null;
  if (why) why.id = "policy-read-only";

  const sections = built.sections.map((s) => {
    const body: Child[] = [];
    if (s.lead) body.push(h("p", { class: "panel-lead" }, s.lead));
    if (editable) body.push(...s.controls.map((c) => c.el));
    else if (s.controls.length)
      body.push(
        h(
          "dl",
          { class: "facts" },
          ...s.controls
            .filter((c) => !(page === "properties" && c.path === "policy.group"))
            .map((c) => h("div", { class: "fact", "data-path": c.path }, h("dt", {}, c.label), h("dd", {}, c.show(at(doc, c.path))))),
        ),
      );
    if (s.extra) body.push(s.extra);
    return panel(s.title, ...body);
  });

  const status = h("div", { class: "save-status", id: "save-status", "aria-live": "polite" });
  const errors = h("div", { class: "save-errors", id: "save-errors" });
  const save = btn("Save changes", { id: "policy-save", type: "submit" }, "primary");
  save.setAttribute("type", "submit");
  const discard = btn("Discard", { id: "policy-discard" });
  discard.appendChild(h("span", { class: "not-phone" }, " changes"));

  const changes = (): Record<string, Record<string, unknown>> | null => {
    const out: Record<string, Record<string, unknown>> = {};
    let any = false;
    for (const c of controls) {
      const v = c.value();
      if (same(v, at(doc, c.path))) continue;
      // The group only matters (and is only sent) with its choice, or when edited.
      const parts = c.path.split(".");
      (out[parts[0]] ??= {})[parts[1]] = v;
      any = true;
    }
    // A section sent whole: every key of it on this page.
    for (const section of spec.whole ?? []) {
      if (!out[section]) continue;
      for (const c of controls) {
        const parts = c.path.split(".");
        if (parts[0] === section) out[section][parts[1]] = c.value();
      }
    }
    return any ? out : null;
  };
  const refresh = () => {
    const dirty = !!changes();
    // What was said about the last save is old news once something changes.
    if (dirty && flash) flash.remove();
    save.disabled = !dirty;
    discard.hidden = !dirty;
    fill(status, dirty ? h("span", { class: "unsaved" }, "Unsaved changes") : "");
    built.changed?.();
  };

  // With an aside (the preview), the sections and it side by side, the save bar under both.
  const form = h(
    "form",
    { class: "policy-form", id: "policy-form", novalidate: true, "data-page": page },
    built.aside ? h("div", { class: "with-aside" }, h("div", { class: "with-aside-main" }, ...sections), h("div", { class: "with-aside-side" }, built.aside)) : null,
    ...(built.aside ? [] : sections),
  );
  if (editable) {
    form.appendChild(h("div", { class: "savebar" }, h("div", { class: "savebar-info" }, versionLine(view), status), h("div", { class: "savebar-actions" }, discard, save)));
    form.addEventListener("input", refresh);
    form.addEventListener("change", refresh);
    discard.addEventListener("click", () => draw(ctx, page, view, null, extra));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const problems = controls.map((c) => ({ c, msg: c.check?.() ?? null })).filter((x) => x.msg);
      if (problems.length) {
        fill(errors, h("div", { class: "alert alert-error", role: "alert" }, h("p", { class: "alert-title" }, "Not saved: check these first"), h("ul", { class: "problems" }, ...problems.map((p) => h("li", {}, p.msg)))));
        problems[0].c.focus?.();
        return;
      }
      const ch = changes();
      if (!ch) return;
      fill(errors);
      void busy(
        save,
        async () => {
          try {
            const saved = await saveChanges(ctx, view, ch);
            if (!saved || !ctx.current()) return;
            const changedKeys = controls.filter((c) => !same(c.value(), at(doc, c.path))).map((c) => c.path);
            draw(
              ctx,
              page,
              saved,
              String(saved.version) === String(view.version)
                ? alert("info", "Nothing changed", "The policy already had these values.")
                : alert("ok", `Saved as version ${String(saved.version)}`, `Kiosks and phones use it within a few seconds. Changed: ${changedKeys.join(", ")}.`),
              extra,
            );
          } catch (e) {
            if (ended(e) || !ctx.current()) return;
            fill(errors, saveError(ctx, page, e));
            (errors.querySelector<HTMLElement>("[role=alert]") ?? errors).focus();
          }
        },
        "Saving…",
      );
    });
    ctx.guard(() => !!changes());
  } else {
    form.appendChild(h("div", { class: "savebar savebar-ro" }, h("div", { class: "savebar-info" }, versionLine(view))));
    ctx.guard(null);
  }

  fill(ctx.main, viewHead(spec.title, spec.lead), flash, why, errors, form);
  if (flash) {
    flash.id = "save-done";
    flash.setAttribute("tabindex", "-1");
  }
  if (editable) refresh();
  ctx.ready();
  if (flash) flash.focus();
}

/** PUT the changes; a `reauth_required` asks for the passkey and tries once more. */
async function saveChanges(ctx: Ctx, view: PolicyView, changes: Record<string, Record<string, unknown>>): Promise<PolicyView | null> {
  const body = { base_version: view.version, changes };
  try {
    return await put<PolicyView>("/v1/admin/policy", body);
  } catch (e) {
    if (!isApi(e, "reauth_required")) throw e;
    if (!(await ctx.reauth())) return null;
    return put<PolicyView>("/v1/admin/policy", body);
  }
}

function saveError(ctx: Ctx, page: PolicyPage, e: unknown): HTMLElement {
  if (isApi(e, "policy_changed")) {
    const reload = btn("Load the newer version", { id: "policy-reload" }, "primary");
    reload.addEventListener("click", () => {
      ctx.guard(null);
      void policyView(ctx, page);
    });
    const box = errorBox(e, "Not saved: someone saved another version meanwhile");
    box.appendChild(h("p", { class: "alert-text" }, "Load it, then make your change again. Loading it drops what you typed here."));
    box.appendChild(h("div", { class: "alert-actions" }, reload));
    box.setAttribute("tabindex", "-1");
    return box;
  }
  const box = errorBox(e, isApi(e, "policy_invalid") ? "Not saved: the policy would not work like this" : "Not saved");
  box.setAttribute("tabindex", "-1");
  return box;
}
