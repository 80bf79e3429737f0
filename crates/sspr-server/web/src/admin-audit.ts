// The audit log (filters, newest first, "Load more", export; the rows of one attempt folded
// into one story) and the Helpdesk (an attempt by its reference; clearing a person's methods).
import { get, post, query } from "./admin-api";
import type { Ctx } from "./admin-ctx";
import {
  alert,
  btn,
  busy,
  confirmDialog,
  empty,
  ended,
  errorBox,
  fieldRow,
  fill,
  h,
  isApi,
  loading,
  nextId,
  panel,
  pill,
  plural,
  textInput,
  viewHead,
  when,
  words,
  type Child,
} from "./admin-ui";
import type { AttemptView, AuditEntry, AuditPage, ClearMethodsRequest, ClearMethodsResult, KioskView } from "./types";

const EVENT_LABEL: Record<string, string> = {
  flow_started: "Attempt started",
  flow_refused: "Attempt refused",
  flow_cancelled: "Attempt cancelled",
  challenge_sent: "Code sent",
  challenge_refused: "Code not sent",
  verify_succeeded: "Verified",
  verify_failed: "Verification failed",
  password_reset: "Password reset",
  writeback_failed: "Directory write failed",
  writeback_in_doubt: "Directory write in doubt",
  writeback_confirmed: "Directory write confirmed",
  kiosk_enrollment_code_issued: "Enrollment code made",
  kiosk_enrollment_refused: "Enrollment refused",
  enrollment_code_revoked: "Staging code revoked",
  security_info_sign_in: "Signed in to My security info",
  security_info_sign_in_failed: "Sign-in to My security info failed",
  security_info_reviewed: "Methods confirmed current",
  approval_opened: "Approval page opened",
  console_sign_in: "Signed in to the console",
  console_sign_in_failed: "Console sign-in failed",
  console_signed_out: "Signed out of the console",
  console_reauthenticated: "Passkey checked again (console)",
  audit_exported: "Audit exported",
  methods_cleared: "Methods cleared",
  directory_tested: "Directory tested",
  policy_saved: "Policy saved",
  policy_refused: "Policy refused",
};

/** Events the server writes, offered as suggestions in the filter (any other name works too). */
const EVENTS = [
  "flow_started",
  "flow_refused",
  "challenge_sent",
  "challenge_refused",
  "verify_succeeded",
  "verify_failed",
  "blocked",
  "password_rejected",
  "password_reset",
  "unlocked",
  "writeback_failed",
  "writeback_in_doubt",
  "writeback_confirmed",
  "partially_written",
  "directory_unavailable",
  "flow_cancelled",
  "step_refused",
  "notification_sent",
  "notification_failed",
  "kiosk_enrollment_code_issued",
  "kiosk_enrolled",
  "kiosk_enrollment_refused",
  "kiosk_revoked",
  "enrollment_code_revoked",
  "request_refused",
  "approval_opened",
  "security_info_sign_in",
  "security_info_sign_in_failed",
  "method_registered",
  "method_removed",
  "security_info_reviewed",
  "audit_purged",
  "policy_saved",
  "policy_refused",
  "console_sign_in",
  "console_sign_in_failed",
  "console_signed_out",
  "console_reauthenticated",
  "audit_exported",
  "methods_cleared",
  "directory_tested",
];

export function eventLabel(e: string): string {
  return EVENT_LABEL[e] ?? words(e);
}

function outcomePill(o: string): HTMLElement {
  if (o === "success") return pill("Success", "ok");
  if (o === "failure") return pill("Failure", "bad");
  return pill(words(o), "neutral");
}

/** The event's own fields, in words: "method: totp · reason: code invalid". */
function detailText(d: unknown): string {
  if (!d || typeof d !== "object") return "";
  const parts: string[] = [];
  const fields = d as Record<string, unknown>;
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    if (k === "event" || v === null || v === undefined || v === "") continue;
    const text = Array.isArray(v) ? v.join(", ") : typeof v === "boolean" ? (v ? "yes" : "no") : typeof v === "object" ? JSON.stringify(v) : String(v);
    parts.push(`${words(k).toLowerCase()}: ${text}`);
  }
  return parts.join(" · ");
}

function kioskOf(e: AuditEntry): Child {
  return e.kiosk_name || e.kiosk_id || h("span", { class: "none" }, "—");
}

/** A story: the events of one attempt, oldest first. */
function timeline(events: AuditEntry[], id?: string): HTMLElement {
  const sorted = events.slice().sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : Number(a.id) - Number(b.id)));
  return h(
    "ol",
    { class: "timeline", id },
    ...sorted.map((e) =>
      h(
        "li",
        { class: `tl-item tl-${e.outcome === "failure" ? "bad" : "ok"}`, "data-event": e.event },
        h("span", { class: "tl-dot", "aria-hidden": "true" }),
        h(
          "div",
          { class: "tl-body" },
          h("p", { class: "tl-head" }, h("span", { class: "tl-event" }, eventLabel(e.event)), " ", outcomePill(e.outcome), h("span", { class: "tl-time" }, when(e.at, { seconds: true }))),
          detailText(e.detail) ? h("p", { class: "tl-detail" }, detailText(e.detail)) : null,
        ),
      ),
    ),
  );
}

// ---- audit log -------------------------------------------------------------------------

const FILTERS = ["login", "kiosk", "event", "outcome", "reference", "since", "until"] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function wideRow(el: HTMLElement): HTMLElement {
  el.classList.add("span-2-narrow");
  return el;
}

/** "2025-03-12T13:00:00Z" ↔ the datetime-local field's "2025-03-12T14:00" (local time). */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function fromLocalInput(v: string): string {
  if (!v) return "";
  const d = new Date(v);
  return isNaN(d.getTime()) ? "" : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

interface Row {
  reference?: string;
  entries: AuditEntry[];
}

/** Newest first; the rows of one reference folded where its newest row is. */
function group(entries: AuditEntry[]): Row[] {
  const rows: Row[] = [];
  const byRef = new Map<string, Row>();
  for (const e of entries) {
    if (e.reference) {
      const r = byRef.get(e.reference);
      if (r) {
        r.entries.push(e);
        continue;
      }
      const row = { reference: e.reference, entries: [e] };
      byRef.set(e.reference, row);
      rows.push(row);
    } else rows.push({ entries: [e] });
  }
  return rows;
}

export async function auditView(ctx: Ctx): Promise<void> {
  const filters: Filters = {};
  for (const k of FILTERS) if (ctx.params[k]) filters[k] = ctx.params[k];

  const lead = h("span", {}, "Every step at the kiosks, on the phone pages and in this console, newest first.");
  const head = viewHead("Audit log", lead);

  // -- filters
  const fLogin = textInput({ id: "f-login", value: filters.login ?? "", autocapitalize: "none" });
  // The kiosk filter is a kiosk's id: chosen by name from the list.
  const fKiosk = h("select", { id: "f-kiosk", class: "input" }, h("option", { value: "" }, "Any kiosk")) as HTMLSelectElement;
  if (filters.kiosk) fKiosk.appendChild(h("option", { value: filters.kiosk, selected: true }, filters.kiosk));
  void get<KioskView[]>("/v1/admin/kiosks").then(
    (list) => {
      const chosen = fKiosk.value;
      fill(
        fKiosk,
        h("option", { value: "" }, "Any kiosk"),
        ...list.map((k) => h("option", { value: k.id, selected: k.id === chosen }, `${k.name}${k.location ? ` (${k.location})` : ""}${k.state === "revoked" ? " — revoked" : ""}`)),
        chosen && !list.some((k) => k.id === chosen) ? h("option", { value: chosen, selected: true }, chosen) : null,
      );
    },
    () => undefined,
  );
  const listId = nextId("events");
  const fEvent = textInput({ id: "f-event", value: filters.event ?? "", list: listId });
  const datalist = h("datalist", { id: listId }, ...EVENTS.map((e) => h("option", { value: e }, eventLabel(e))));
  const fOutcome = h(
    "select",
    { id: "f-outcome", class: "input" },
    ...[
      ["", "Any"],
      ["success", "Success"],
      ["failure", "Failure"],
    ].map((o) => h("option", { value: o[0], selected: (filters.outcome ?? "") === o[0] }, o[1])),
  ) as HTMLSelectElement;
  const fRef = textInput({ id: "f-reference", value: filters.reference ?? "", autocapitalize: "characters", placeholder: "K7Q4-M2XD" });
  const fSince = h("input", { type: "datetime-local", id: "f-since", class: "input", value: toLocalInput(filters.since) }) as HTMLInputElement;
  const fUntil = h("input", { type: "datetime-local", id: "f-until", class: "input", value: toLocalInput(filters.until) }) as HTMLInputElement;
  const apply = h("button", { type: "submit", class: "btn btn-primary", id: "audit-apply" }, "Apply filters") as HTMLButtonElement;
  const clear = btn("Clear filters", { id: "audit-clear" });
  const csv = h("a", { class: "btn btn-quiet", id: "export-csv", download: true }, "Export CSV");
  const json = h("a", { class: "btn btn-quiet", id: "export-json", download: true }, "Export JSON");

  const read = (): Filters => ({
    login: fLogin.value.trim(),
    kiosk: fKiosk.value,
    event: fEvent.value.trim(),
    outcome: fOutcome.value,
    reference: fRef.value.trim().toUpperCase(),
    since: fromLocalInput(fSince.value),
    until: fromLocalInput(fUntil.value),
  });
  const setExport = (f: Filters) => {
    csv.setAttribute("href", `/v1/admin/audit/export${query({ format: "csv", ...f })}`);
    json.setAttribute("href", `/v1/admin/audit/export${query({ format: "json", ...f })}`);
  };

  const form = h(
    "form",
    { class: "filters", id: "audit-filters", novalidate: true, role: "search", "aria-label": "Filter the audit log" },
    h(
      "div",
      { class: "filters-grid" },
      fieldRow("Login", fLogin),
      fieldRow("Kiosk", fKiosk),
      fieldRow("Event", fEvent),
      fieldRow("Outcome", fOutcome),
      fieldRow("Reference", fRef),
      wideRow(fieldRow("From", fSince)),
      wideRow(fieldRow("To", fUntil)),
    ),
    datalist,
    h("div", { class: "filters-actions" }, h("div", { class: "filters-go" }, apply, clear), h("div", { class: "filters-export" }, h("span", { class: "muted" }, "Download what matches:"), csv, json)),
  );

  // -- results
  const results = h("div", { class: "audit-results", id: "audit-results" });
  const more = btn("Load more", { id: "audit-more" });
  const moreRow = h("div", { class: "more-row" }, more);
  const count = h("p", { class: "muted", id: "audit-count", "aria-live": "polite" });
  let entries: AuditEntry[] = [];
  let next: string | undefined;
  let current: Filters = filters;
  const open = new Set<string>();

  const render = () => {
    if (!entries.length) {
      const filtered = Object.values(current).some(Boolean);
      fill(results, empty(filtered ? "Nothing matches these filters" : "No audit rows yet", filtered ? "Try fewer filters or a longer time span." : "Rows appear as soon as kiosks, phones or this console are used."));
      moreRow.hidden = true;
      fill(count);
      return;
    }
    const rows = group(entries);
    const body = h("tbody");
    for (const r of rows) {
      const e = r.entries[0];
      const story = r.reference && r.entries.length > 1;
      const expanded = !!r.reference && open.has(r.reference);
      let toggle: HTMLElement | null = null;
      if (story && r.reference) {
        const ref = r.reference;
        toggle = h("button", { type: "button", class: "btn btn-small btn-link-like toggle", "aria-expanded": String(expanded), "data-story": ref, "aria-label": `${expanded ? "Hide" : "Show"} the ${r.entries.length} steps of ${ref}` }, h("span", { class: "caret", "aria-hidden": "true" }), `${r.entries.length} steps`);
        toggle.addEventListener("click", () => {
          if (open.has(ref)) open.delete(ref);
          else open.add(ref);
          render();
          results.querySelector<HTMLElement>(`[data-story="${ref}"]`)?.focus();
        });
      }
      body.appendChild(
        h(
          "tr",
          { class: `${expanded ? "row-open" : ""}`, "data-id": String(e.id), "data-reference": r.reference },
          h("td", { "data-label": "Time" }, when(e.at, { seconds: true })),
          h("td", { "data-label": "Event", class: "cell-stack" }, h("span", { class: "strong" }, eventLabel(e.event)), detailText(e.detail) ? h("span", { class: "cell-note" }, detailText(e.detail)) : null),
          h("td", { "data-label": "Outcome" }, outcomePill(e.outcome)),
          h("td", { "data-label": "Login", class: e.login ? undefined : "is-empty" }, e.login || h("span", { class: "none" }, "—")),
          h("td", { "data-label": "Kiosk", class: e.kiosk_name || e.kiosk_id ? "wide" : "wide is-empty" }, kioskOf(e)),
          h("td", { "data-label": "Reference", class: r.reference ? undefined : "is-empty" }, r.reference ? h("span", { class: "mono" }, r.reference) : h("span", { class: "none" }, "—")),
          h("td", { class: "act", "data-label": "Steps" }, toggle),
        ),
      );
      if (expanded && r.reference) {
        body.appendChild(
          h(
            "tr",
            { class: "story-row" },
            h(
              "td",
              { colspan: 7 },
              h(
                "div",
                { class: "story" },
                h("p", { class: "story-title" }, `Attempt ${r.reference}`, r.entries[0].login ? ` · ${r.entries[0].login}` : ""),
                timeline(r.entries, `story-${r.reference}`),
                h("a", { href: `#helpdesk/${encodeURIComponent(r.reference)}`, class: "panel-link" }, "Open in Helpdesk"),
              ),
            ),
          ),
        );
      }
    }
    fill(
      results,
      h(
        "div",
        { class: "panel" },
        h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table table-audit" },
          h("caption", { class: "sr-only" }, "Audit rows, newest first"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...["Time", "Event", "Outcome", "Login", "Kiosk", "Reference", "Steps"].map((t) => h("th", { scope: "col", class: t === "Kiosk" ? "wide" : t === "Steps" ? "act" : undefined }, t)),
            ),
          ),
          body,
        ),
      ),
      ),
    );
    moreRow.hidden = !next;
    fill(count, `Showing ${plural(entries.length, "row")}${next ? " (more below)" : ""}.`);
  };

  const fetchPage = async (before?: string): Promise<AuditPage> => get<AuditPage>(`/v1/admin/audit${query({ ...current, before, limit: 50 })}`);

  const setRetention = (days: number) => {
    fill(lead, "Every step at the kiosks, on the phone pages and in this console, newest first. ", h("span", { id: "retention" }, days === 0 ? "Rows are kept for ever." : `Rows are kept for ${plural(days, "day")}.`));
  };

  const run = async (f: Filters): Promise<boolean> => {
    current = f;
    setExport(f);
    ctx.replaceParams(f as Record<string, string>);
    fill(results, loading("Loading the audit log…"));
    moreRow.hidden = true;
    try {
      const page = await fetchPage();
      if (!ctx.current()) return false;
      entries = page.entries;
      next = page.next_before === undefined || page.next_before === null ? undefined : String(page.next_before);
      open.clear();
      setRetention(page.retention_days);
      render();
      return true;
    } catch (e) {
      if (ended(e) || !ctx.current()) return false;
      fill(results, errorBox(e, "The audit log couldn't be loaded"));
      return false;
    }
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void busy(apply, () => run(read()).then(() => ctx.ready()));
  });
  clear.addEventListener("click", () => {
    for (const el of [fLogin, fEvent, fRef, fSince, fUntil]) el.value = "";
    fOutcome.value = "";
    fKiosk.value = "";
    void busy(clear, () => run({}).then(() => ctx.ready()));
  });
  more.addEventListener("click", () =>
    void busy(
      more,
      async () => {
        try {
          const page = await fetchPage(next);
          if (!ctx.current()) return;
          entries = entries.concat(page.entries);
          next = page.next_before === undefined || page.next_before === null ? undefined : String(page.next_before);
          render();
        } catch (e) {
          if (ended(e) || !ctx.current()) return;
          fill(moreRow, errorBox(e, "More rows couldn't be loaded"), more);
        }
      },
      "Loading…",
    ),
  );

  // The filters fold away on a phone (open when some are set), and stay open at a desk.
  const active = Object.keys(filters).length;
  const box = h(
    "details",
    { class: "panel filters-box", open: active > 0 || window.matchMedia("(min-width: 761px)").matches },
    h("summary", { class: "filters-summary" }, h("span", { class: "caret", "aria-hidden": "true" }), "Filters", active ? h("span", { class: "pill pill-info" }, `${active} set`) : null),
    form,
  );
  fill(ctx.main, head, box, count, results, moreRow);
  const ok = await run(filters);
  if (!ctx.current()) return;
  if (ok) ctx.ready();
  else ctx.failed();
}

// ---- helpdesk --------------------------------------------------------------------------

const ATTEMPT_OUTCOME: Record<string, [string, "ok" | "bad" | "warn" | "neutral" | "info"]> = {
  done: ["Done", "ok"],
  failed: ["Failed", "bad"],
  blocked: ["Blocked", "bad"],
  abandoned: ["Abandoned", "neutral"],
  in_progress: ["In progress", "info"],
};

function intentText(i: string | undefined): string {
  if (i === "reset") return "Reset the password";
  if (i === "unlock") return "Unlock the account";
  return i ? words(i) : "—";
}

function attemptCard(a: AttemptView): HTMLElement {
  const known = ATTEMPT_OUTCOME[a.outcome];
  const label = known ? known[0] : words(a.outcome);
  const tone = known ? known[1] : "neutral";
  const fact = (dt: string, dd: Child, id?: string) => h("div", { class: "fact" }, h("dt", {}, dt), h("dd", { id }, dd));
  const none = (s?: string) => s || h("span", { class: "none" }, "—");
  return h(
    "section",
    { class: "panel attempt", id: "attempt", "aria-labelledby": "attempt-title", tabindex: -1, "data-outcome": a.outcome },
    h("div", { class: "attempt-head" }, h("h2", { class: "panel-title", id: "attempt-title" }, "Attempt ", h("span", { class: "mono" }, a.reference)), pill(label, tone, { id: "attempt-outcome" })),
    a.decoy
      ? alert(
          "warn",
          "Nothing could have worked for this login",
          "The kiosk carried on as usual (it never tells), but there is nobody by this login, the account is disabled or outside self-service, or nothing is registered. You may tell the person; they register on \u201cMy security info\u201d or you help them directly.",
        )
      : null,
    h(
      "dl",
      { class: "facts facts-2" },
      fact("Person", none(a.login), "attempt-login"),
      fact("Kiosk", none(a.kiosk), "attempt-kiosk"),
      fact("Wanted to", intentText(a.intent), "attempt-intent"),
      fact("Outcome", label),
      fact("Started", when(a.started_at, { seconds: true })),
      fact("Last step", when(a.last_at, { seconds: true })),
      a.failed_at || a.reason ? fact("Failed at", h("span", {}, a.failed_at ? h("span", { class: "strong" }, a.failed_at) : null, a.failed_at && a.reason ? " — " : null, a.reason ?? null), "attempt-failed") : null,
      a.blocked_until ? fact("Blocked until", h("span", {}, when(a.blocked_until), " (self-service is paused for this person until then)"), "attempt-blocked") : null,
      fact("Decoy", a.decoy ? "Yes" : "No", "attempt-decoy"),
    ),
    h("h3", { class: "sub-title" }, "What happened"),
    a.events.length ? timeline(a.events, "attempt-events") : h("p", { class: "muted" }, "No events recorded (they may have passed the audit's retention)."),
    h("a", { class: "panel-link", href: `#audit?reference=${encodeURIComponent(a.reference)}` }, "These rows in the audit log"),
  );
}

export function helpdeskView(ctx: Ctx): void {
  const head = viewHead("Helpdesk", "Find someone's attempt at a kiosk by its reference, or clear their methods so they can register again.");

  // -- look up
  const ref = textInput({ id: "reference", autocapitalize: "characters", maxlength: 32, placeholder: "K7Q4-M2XD", class: "input input-ref" });
  const look = h("button", { type: "submit", class: "btn btn-primary", id: "lookup" }, "Look up") as HTMLButtonElement;
  const found = h("div", { id: "attempt-slot", "aria-live": "polite" });
  const lookForm = h(
    "form",
    { class: "inline-form", novalidate: true, id: "lookup-form", role: "search" },
    fieldRow("Reference", ref, "The code the kiosk showed on its \u201cWe couldn't verify you\u201d screen, or in its email."),
    h("div", { class: "inline-form-go" }, look),
  );
  const lookup = async (code: string) => {
    fill(found, loading("Looking it up…"));
    try {
      const a = await get<AttemptView>(`/v1/admin/attempts/${encodeURIComponent(code)}`);
      if (!ctx.current()) return;
      const card = attemptCard(a);
      fill(found, card);
      card.focus();
    } catch (e) {
      if (ended(e) || !ctx.current()) return;
      fill(found, isApi(e, "not_found") ? alert("warn", `No attempt has the reference ${code}`, "Check the code with the person: letters and digits, like K7Q4-M2XD. Old attempts go when the audit's retention ends.") : errorBox(e, "The attempt couldn't be looked up"));
    }
  };
  lookForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const code = ref.value.trim().toUpperCase();
    if (!code) {
      fill(found, alert("error", "Enter a reference.", "It looks like K7Q4-M2XD."));
      ref.focus();
      return;
    }
    ctx.replaceParams({ ref: code });
    void busy(look, () => lookup(code));
  });

  // -- clear methods
  const login = textInput({ id: "clear-login", autocapitalize: "none", maxlength: 256 });
  const reason = h("textarea", { id: "clear-reason", class: "input textarea", rows: 3, maxlength: 500 }) as HTMLTextAreaElement;
  const clearBtn = h("button", { type: "submit", class: "btn btn-danger", id: "clear-methods" }, "Clear methods…") as HTMLButtonElement;
  const clearOut = h("div", { id: "clear-result", "aria-live": "polite" });
  const clearForm = h(
    "form",
    { class: "stack-form", novalidate: true, id: "clear-form" },
    fieldRow("Username", login, "Their directory login, e.g. ada."),
    fieldRow("Reason", reason, "Required. It goes in the audit log, e.g. \u201cLost phone, identity checked in person\u201d."),
    h("div", { class: "form-actions form-actions-start" }, clearBtn),
  );
  clearForm.addEventListener("submit", (e) => {
    e.preventDefault();
    fill(clearOut);
    const who = login.value.trim();
    const why = reason.value.trim();
    if (!who || why.length < 3) {
      fill(clearOut, alert("error", !who ? "Enter the person's username." : "Enter a reason (at least 3 characters).", !who ? undefined : "Say why, for the audit log."));
      (!who ? login : reason).focus();
      return;
    }
    void (async () => {
      const yes = await confirmDialog({
        title: `Clear all methods of ${who}?`,
        text: h(
          "span",
          {},
          "Every method ",
          h("strong", {}, who),
          " registered (codes, authenticator app, passkeys) is removed. Until they register again on \u201cMy security info\u201d, they can't use the kiosks. Check who they are first.",
        ),
        confirm: "Clear methods",
        danger: true,
      });
      if (!yes) {
        clearBtn.focus();
        return;
      }
      await busy(clearBtn, async () => {
        try {
          const r = await post<ClearMethodsResult>(`/v1/admin/people/${encodeURIComponent(who)}/clear-methods`, { reason: why } satisfies ClearMethodsRequest);
          if (!ctx.current()) return;
          reason.value = "";
          fill(clearOut, r.removed ? alert("ok", `Cleared: ${plural(r.removed, "method")} of ${who} removed`, "They register again on \u201cMy security info\u201d with their password.") : alert("info", `${who} had no registered methods`, "Nothing was removed."));
        } catch (e2) {
          if (ended(e2) || !ctx.current()) return;
          fill(clearOut, errorBox(e2, "Nothing was cleared"));
        }
      });
    })();
  });

  fill(
    ctx.main,
    head,
    panel("Look up an attempt", lookForm, found),
    panel("Clear a person's methods", h("p", { class: "panel-lead" }, "When someone lost their phone or can't use their methods any more, clear them: they then register again, signing in with their password."), clearForm, clearOut),
  );
  ctx.ready();
  const start = (ctx.sub || ctx.params.ref || "").trim().toUpperCase();
  if (start) {
    ref.value = start;
    void lookup(start);
  }
}
