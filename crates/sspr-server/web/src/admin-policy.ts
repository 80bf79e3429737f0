// The policy pages: Properties, Authentication methods, Registration, Notifications and
// Customization. Each shows its part of the policy in force (`GET /v1/admin/policy`) and
// saves only the keys it changed (`PUT /v1/admin/policy`), over the version it showed.
import { get, put } from "./admin-api";
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
  h,
  isApi,
  loading,
  METHOD_LABEL,
  methodLabel,
  nextId,
  panel,
  radios,
  textInput,
  viewHead,
  when,
  type Child,
} from "./admin-ui";
import type { MethodKind, PolicyView } from "./types";

export type PolicyPage = "properties" | "methods" | "registration" | "notifications" | "customization";

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

interface Spec {
  title: string;
  lead: string;
  build: (doc: Doc, view: PolicyView, editable: boolean) => Built;
}

function at(doc: Doc, path: string): unknown {
  const parts = path.split(".");
  const v = doc[parts[0]]?.[parts[1]];
  return v === undefined ? null : v;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const yesNo = (v: unknown) => (v ? "Yes" : "No");

// ---- controls --------------------------------------------------------------------------

function checkControl(path: string, label: string, v: unknown, hint?: string): Control {
  const c = checkbox(path, label, !!v, hint);
  c.input.setAttribute("data-path", path);
  return { path, label, el: h("div", { class: "form-row form-row-check" }, h("div", { class: "form-control" }, c.el)), value: () => c.input.checked, show: yesNo, focus: () => c.input.focus() };
}

function numberControl(path: string, label: string, v: unknown, min: number, max: number, unit: "seconds" | "days", hint: string): Control {
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
    show: (x) => (unit === "seconds" ? `${x} s${Number(x) >= 60 ? ` (${duration(Number(x))})` : ""}` : Number(x) === 0 ? "Never ask" : `${x} days`),
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
  const groupRow = h("div", { class: "nested", id: "group-row" }, fieldRow("Group", group, "The directory group's name, e.g. SSPR Users."));
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
  const boxes = known.map((m) => {
    const c = checkbox(`method-${m}`, methodLabel(m), enabled.includes(m));
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

function customization(doc: Doc, _view: PolicyView, editable: boolean): Built {
  const o = doc.organization ?? {};
  const d = doc.helpdesk ?? {};
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
    ],
    "The language a kiosk starts in; people can switch on its start screen.",
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
      accent: s(v(accent)),
      locale: s(v(locale)) || "en",
      unlock: !!doc.policy?.allow_unlock,
      helpdesk: { url: s(v(url)), phone: s(v(phone)), email: s(v(email)) },
    };
  };
  const preview = kioskPreview(values());
  return {
    sections: [
      { title: "Organization", controls: [name, accent, locale] },
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
  registration: { title: "Registration", lead: "How people keep their methods up to date on \u201cMy security info\u201d.", build: registration },
  notifications: { title: "Notifications", lead: "Who is told by email when a password is reset.", build: notifications },
  customization: { title: "Customization", lead: "What the kiosks and phone pages show: your name, colour, language and helpdesk.", build: customization },
};

// ---- the view --------------------------------------------------------------------------

export async function policyView(ctx: Ctx, page: PolicyPage): Promise<void> {
  const spec = SPECS[page];
  fill(ctx.main, viewHead(spec.title, spec.lead), loading("Loading the policy…"));
  let view: PolicyView;
  try {
    view = await get<PolicyView>("/v1/admin/policy");
  } catch (e) {
    if (ended(e) || !ctx.current()) return;
    fill(ctx.main, viewHead(spec.title, spec.lead), errorBox(e, "The policy couldn't be loaded"), btn("Try again", { onclick: () => void policyView(ctx, page) }));
    ctx.failed();
    return;
  }
  if (!ctx.current()) return;
  draw(ctx, page, view, null);
}

function versionLine(view: PolicyView): HTMLElement {
  return h(
    "p",
    { class: "version", id: "policy-version" },
    h("span", { class: "version-no" }, `Version ${String(view.version)}`),
    h("span", { class: "version-more" }, " · saved by ", h("span", { class: "version-by" }, view.saved_by || "—"), " · ", when(view.saved_at)),
  );
}

function draw(ctx: Ctx, page: PolicyPage, view: PolicyView, flash: HTMLElement | null): void {
  const spec = SPECS[page];
  const editable = canEditPolicy(ctx, view.read_only);
  const doc = (view.document ?? {}) as Doc;
  const built = spec.build(doc, view, editable);
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
    discard.addEventListener("click", () => draw(ctx, page, view, null));
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
            const changedKeys = Object.keys(ch).flatMap((s) => Object.keys(ch[s]).map((k) => `${s}.${k}`));
            draw(
              ctx,
              page,
              saved,
              String(saved.version) === String(view.version)
                ? alert("info", "Nothing changed", "The policy already had these values.")
                : alert("ok", `Saved as version ${String(saved.version)}`, `Kiosks and phones use it within a few seconds. Changed: ${changedKeys.join(", ")}.`),
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
