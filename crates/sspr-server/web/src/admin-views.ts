// Overview, Directories and Kiosks.
import { get, post } from "./admin-api";
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
  loading,
  methodLabel,
  panel,
  pill,
  plural,
  table,
  textInput,
  viewHead,
  when,
  type Child,
  type Column,
} from "./admin-ui";
import type { CertificateStatus, DirectoryStatus, EnrollmentCodeRequest, EnrollmentCodeStatus, EnrollmentCodeView, KioskView, Overview } from "./types";

/** Loads, and on failure shows the server's message with a way to try again. */
async function load<T>(ctx: Ctx, head: HTMLElement, path: string, what: string, again: () => void): Promise<T | null> {
  fill(ctx.main, head, loading());
  try {
    const v = await get<T>(path);
    return ctx.current() ? v : null;
  } catch (e) {
    if (ended(e) || !ctx.current()) return null;
    fill(ctx.main, head, errorBox(e, `${what} couldn't be loaded`), btn("Try again", { onclick: again }));
    ctx.failed();
    return null;
  }
}

// ---- overview --------------------------------------------------------------------------

function tile(label: string, value: number, id: string, tone: "" | "bad" | "warn" = ""): HTMLElement {
  return h(
    "div",
    { class: `tile${tone && value > 0 ? ` tile-${tone}` : ""}`, id },
    h("p", { class: "tile-value" }, value.toLocaleString()),
    h("p", { class: "tile-label" }, label),
  );
}

function enabledText(o: Overview): { text: string; tone: "ok" | "bad" | "neutral" } {
  if (o.enabled === "none") return { text: "Off for everyone", tone: "bad" };
  if (o.enabled === "group") return { text: `On for members of ${o.group}`, tone: "ok" };
  return { text: "On for everyone", tone: "ok" };
}

function directoryState(d: DirectoryStatus): HTMLElement {
  return d.reachable ? pill("Reachable", "ok") : pill("Unreachable", "bad");
}

export async function overviewView(ctx: Ctx): Promise<void> {
  const head = viewHead("Overview", "How self-service stands right now.");
  const o = await load<Overview>(ctx, head, "/v1/admin/overview", "The overview", () => void overviewView(ctx));
  if (!o) return;
  const isAdmin = ctx.has("admin");
  const e = enabledText(o);
  const staff = ctx.has("admin") || ctx.has("helpdesk");
  const link = (href: string, text: string, forStaff = true) => (!forStaff || staff ? h("a", { href, class: "panel-link" }, text) : null);

  const attention = o.attention.length
    ? h(
        "ul",
        { class: "attention", id: "attention" },
        ...o.attention.map((a) =>
          h(
            "li",
            { class: `attention-item attention-${a.severity === "error" ? "error" : "warning"}` },
            h("span", { class: "attention-mark", "aria-hidden": "true" }, a.severity === "error" ? "!" : "i"),
            h("span", { class: "sr-only" }, a.severity === "error" ? "Error: " : "Warning: "),
            h("span", {}, a.message),
          ),
        ),
      )
    : h("p", { class: "all-good", id: "attention" }, h("span", { class: "ok-mark", "aria-hidden": "true" }), "Nothing needs attention.");

  const policy = panel(
    "Self-service",
    h(
      "dl",
      { class: "facts" },
      h("div", { class: "fact" }, h("dt", {}, "Status"), h("dd", { id: "ov-enabled" }, pill(e.text, e.tone))),
      h(
        "div",
        { class: "fact" },
        h("dt", {}, "Methods"),
        h("dd", { id: "ov-methods" }, o.methods.length ? h("span", { class: "chips" }, ...o.methods.map((m) => h("span", { class: "chip" }, methodLabel(m)))) : h("span", { class: "none" }, "None")),
      ),
      h("div", { class: "fact" }, h("dt", {}, "Required"), h("dd", { id: "ov-required" }, `${plural(o.methods_required, "method")} (administrators: 2)`)),
      h("div", { class: "fact" }, h("dt", {}, "Policy"), h("dd", {}, `Version ${String(o.policy_version)}`)),
    ),
    link("#properties", isAdmin ? "Change the policy" : "See the policy", false),
  );

  const dirs = panel(
    "Directories",
    o.directories.length
      ? table(
          "Directories",
          [
            { title: "Directory", cell: (d: DirectoryStatus) => h("span", { class: "strong" }, d.name) },
            { title: "Status", cell: (d) => h("span", { class: "stack-cell" }, directoryState(d), d.error ? h("span", { class: "cell-note bad" }, d.error) : null) },
            { title: "Last write", cell: (d) => when(d.last_write_at, { relative: true }) },
            {
              title: "Last failure",
              cell: (d) => (d.last_failure_at ? h("span", { class: "stack-cell" }, when(d.last_failure_at, { relative: true }), d.last_failure_reason ? h("span", { class: "cell-note" }, d.last_failure_reason) : null) : h("span", { class: "none" }, "None")),
            },
          ],
          o.directories,
        )
      : empty("No directories configured"),
    link("#directories", "Directory details"),
  );

  const kiosks = panel(
    "Kiosks",
    h("div", { class: "tiles tiles-3" }, tile("Enrolled", o.kiosks_enrolled, "ov-kiosks-enrolled"), tile("Online (last 15 min)", o.kiosks_online, "ov-kiosks-online"), tile("Not seen for a day", o.kiosks_stale, "ov-kiosks-stale", "warn")),
    link("#kiosks", isAdmin ? "Manage kiosks" : "See kiosks"),
  );

  const today = panel(
    "Today",
    h("p", { class: "panel-lead" }, "Since midnight UTC."),
    h(
      "div",
      { class: "tiles tiles-5", id: "ov-today" },
      tile("Flows started", o.today.started, "ov-started"),
      tile("Passwords reset", o.today.resets, "ov-resets"),
      tile("Accounts unlocked", o.today.unlocks, "ov-unlocks"),
      tile("Failed verifications", o.today.failures, "ov-failures", "warn"),
      tile("Blocked", o.today.blocked, "ov-blocked", "bad"),
    ),
    link("#audit", "Open the audit log"),
  );

  fill(ctx.main, head, panel("Needs attention", attention), today, h("div", { class: "grid-2" }, policy, kiosks), dirs);
  ctx.ready();
}

// ---- directories -----------------------------------------------------------------------

/** "Expires on" with its days left, in the tone it deserves (under 30 days, under 7). */
function certificateFacts(c: CertificateStatus): Child[] {
  if (c.error) return [h("span", { class: "stack-cell" }, pill("Couldn't be read", "bad"), h("span", { class: "cell-note bad" }, c.error))];
  const days = c.days_left;
  const tone = days === undefined || days === null ? "neutral" : days < 7 ? "bad" : days < 30 ? "warn" : "ok";
  const left =
    days === undefined || days === null ? null : days < 0 ? `expired ${plural(-days, "day")} ago` : days === 0 ? "expires today" : `${plural(days, "day")} left`;
  return [
    h(
      "span",
      { class: "cert" },
      c.subject ? h("span", { class: "cert-subject mono", "data-cert": "subject" }, c.subject) : null,
      h(
        "span",
        { class: "cert-line" },
        c.expires_at ? h("span", { "data-cert": "expires" }, "Expires ", h("time", { datetime: c.expires_at }, new Date(c.expires_at).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }))) : null,
        left ? pill(left, tone, { "data-cert": "days-left" }) : null,
        c.trusted ? pill("Trusted", "ok", { "data-cert": "trusted" }) : pill("Not trusted", "bad", { "data-cert": "trusted" }),
      ),
      !c.trusted ? h("span", { class: "cell-note bad" }, "The configured CA (or the system's) doesn't vouch for it for this host: set the directory's ca_file.") : null,
    ),
  ];
}

function directoryCard(d: DirectoryStatus, test: HTMLButtonElement | null): HTMLElement {
  const fact = (dt: string, ...dd: Child[]) => h("div", { class: "fact" }, h("dt", {}, dt), h("dd", {}, ...dd));
  const cert = d.certificate;
  const days = cert?.days_left;
  const certTone = !cert ? "" : cert.error || !cert.trusted || (days !== undefined && days !== null && days < 7) ? "bad" : days !== undefined && days !== null && days < 30 ? "warn" : "";
  return h(
    "section",
    { class: `panel directory${certTone ? ` directory-${certTone}` : ""}`, "data-directory": d.name, "aria-label": d.name },
    h("div", { class: "directory-head" }, h("h2", { class: "panel-title" }, d.name), directoryState(d), h("span", { class: "directory-act" }, test)),
    d.error ? h("p", { class: "cell-note bad directory-error" }, d.error) : null,
    h(
      "dl",
      { class: "facts" },
      fact("Certificate", ...(cert ? certificateFacts(cert) : [h("span", { class: "none" }, "None to show: this connection doesn't use TLS")])),
      fact("Password rules", d.rules ? (d.rules === "none of its own" ? h("span", { class: "none" }, "None of its own") : d.rules) : h("span", { class: "none" }, "Couldn't be read")),
      fact("Last write", when(d.last_write_at, { relative: true })),
      fact(
        "Last failure",
        d.last_failure_at ? h("span", { class: "stack-cell" }, when(d.last_failure_at, { relative: true }), d.last_failure_reason ? h("span", { class: "cell-note" }, d.last_failure_reason) : null) : h("span", { class: "none" }, "None"),
      ),
    ),
  );
}

export async function directoriesView(ctx: Ctx): Promise<void> {
  const head = viewHead("Directories", "Where passwords are checked and written. The connection is set in the server's configuration file.");
  const list = await load<DirectoryStatus[]>(ctx, head, "/v1/admin/directories", "The directories", () => void directoriesView(ctx));
  if (!list) return;
  const canTest = ctx.has("admin");
  const rows = list.slice();
  const holder = h("div", { id: "directories" });
  const result = h("div", { "aria-live": "polite", id: "directory-result" });
  const render = () => {
    if (!rows.length) {
      fill(holder, panel(null, empty("No directories configured", "Add one to the server's configuration file ([directory]) and restart it.")));
      return;
    }
    fill(
      holder,
      ...rows.map((d) => {
        if (!canTest) return directoryCard(d, null);
        const b = btn("Test connection", { class: "btn-small", "data-test": d.name, "aria-label": `Test connection to ${d.name}` });
        b.addEventListener("click", () =>
          void busy(
            b,
            async () => {
              fill(result);
              try {
                const fresh = await post<DirectoryStatus>(`/v1/admin/directories/${encodeURIComponent(d.name)}/test`);
                const i = rows.findIndex((r) => r.name === d.name);
                if (i >= 0) rows[i] = fresh;
                if (!ctx.current()) return;
                render();
                fill(result, fresh.reachable ? alert("ok", `${fresh.name}: the connection works`) : alert("error", `${fresh.name}: no connection`, fresh.error ?? "The directory didn't answer."));
              } catch (e) {
                if (ended(e) || !ctx.current()) return;
                fill(result, errorBox(e, `${d.name}: the test couldn't run`));
              }
            },
            "Testing…",
          ),
        );
        return directoryCard(d, b);
      }),
    );
  };
  render();
  fill(ctx.main, head, result, holder);
  ctx.ready();
}

// ---- kiosks ----------------------------------------------------------------------------

function kioskState(k: KioskView): HTMLElement {
  if (k.state === "revoked") return pill("Revoked", "neutral");
  if (k.state === "pending") return pill("Waiting to enroll", "info");
  if (k.stale) return pill("Not seen for a day", "warn");
  return pill("Enrolled", "ok");
}

function svgImage(svg: string, alt: string): HTMLElement {
  // As an image from a data: URL: nothing from the network is parsed into the page.
  const bytes = new TextEncoder().encode(svg);
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return h("img", { class: "enroll-qr", id: "enroll-qr", src: `data:image/svg+xml;base64,${btoa(bin)}`, alt, width: 200, height: 200 });
}

function enrollmentCard(code: EnrollmentCodeView, name: string): HTMLElement {
  const uses = code.uses;
  const staging = uses !== undefined;
  const title = staging ? `Staging code for ${plural(uses, "PC")}` : `Enrollment code for ${name}`;
  return h(
    "section",
    { class: "panel enroll", id: "enrollment", "aria-labelledby": "enroll-title", tabindex: -1 },
    h("h2", { class: "panel-title", id: "enroll-title" }, title),
    h(
      "div",
      { class: "enroll-body" },
      h(
        "div",
        { class: "enroll-text" },
        h("p", { class: "form-label" }, "Code"),
        h("p", { class: "enroll-code", id: "enroll-code" }, code.code),
        staging
          ? h("p", {}, "On each PC, scan the QR code or type the code in its setup screen (or start it with ", h("code", {}, "--enroll-code"), "). Each becomes a new kiosk under its own host name, or ", h("code", {}, `${name || "pc"}-1`), ", ", h("code", {}, `${name || "pc"}-2`), "… when it sends none.")
          : h("p", {}, "On the new kiosk, scan the QR code or type the code in its setup screen (or start it with ", h("code", {}, "--enroll-code"), ")."),
        staging
          ? h("p", { class: "muted", id: "enroll-uses" }, `It enrolls up to ${plural(uses, "PC")}, until `, when(code.expires_at), ". The list of staging codes below shows how many it may still enroll.")
          : h("p", { class: "muted" }, "It works once, until ", when(code.expires_at), ". After that, make a new one."),
      ),
      svgImage(code.qr_svg, staging ? `QR code for enrolling ${plural(uses, "PC")}` : `QR code for enrolling ${name}`),
    ),
  );
}

function codeState(c: EnrollmentCodeStatus): HTMLElement {
  if (c.state === "active") return pill("Active", "ok");
  if (c.state === "used_up") return pill("Used up", "neutral");
  if (c.state === "expired") return pill("Expired", "neutral");
  return pill("Revoked", "neutral");
}

/** Staging codes (for several PCs): how many each enrolled and may still enroll. */
function stagingCodes(codes: EnrollmentCodeStatus[]): HTMLElement {
  const columns: Column<EnrollmentCodeStatus>[] = [
    { title: "Code", cell: (c) => h("span", { class: "mono" }, c.id) },
    { title: "Names", cell: (c) => h("span", { class: "stack-cell" }, "Host name", h("span", { class: "cell-note" }, `else ${c.name_prefix}-1, ${c.name_prefix}-2…`)) },
    { title: "Location", cell: (c) => c.location || h("span", { class: "none" }, "—") },
    { title: "State", cell: (c) => codeState(c) },
    { title: "Enrolled", kind: "num" as const, cell: (c) => `${c.used.toLocaleString()} of ${c.uses.toLocaleString()}` },
    { title: "Remaining", kind: "num" as const, cell: (c) => h("span", { "data-remaining": c.id }, c.remaining.toLocaleString()) },
    { title: "Expires", cell: (c) => when(c.expires_at), wide: true },
  ];
  return panel(
    "Staging codes",
    h("p", { class: "panel-lead" }, "Codes for several PCs. Each PC that uses one becomes a kiosk of its own in the list above."),
    table("Staging codes", columns, codes, (c) => ({ "data-code": c.id, "data-state": c.state, class: c.state === "active" ? "" : "row-muted" })),
  );
}

export async function kiosksView(ctx: Ctx, flash?: HTMLElement): Promise<void> {
  const isAdmin = ctx.has("admin");
  const head = viewHead("Kiosks", isAdmin ? "The kiosks that may use this server. A revoked kiosk is refused at once." : "The kiosks that may use this server.");
  const list = await load<KioskView[]>(ctx, head, "/v1/admin/kiosks", "The kiosks", () => void kiosksView(ctx));
  if (!list) return;
  const codes = await load<EnrollmentCodeStatus[]>(ctx, head, "/v1/admin/kiosks/enrollment-codes", "The staging codes", () => void kiosksView(ctx));
  if (!codes) return;
  const result = h("div", { "aria-live": "polite", id: "kiosk-result" });
  if (flash) fill(result, flash);

  const revoke = (k: KioskView, b: HTMLButtonElement) =>
    void (async () => {
      const yes = await confirmDialog({
        title: `Revoke ${k.name}?`,
        text: h("span", {}, `${k.name}${k.location ? ` (${k.location})` : ""} stops working at once: its requests are refused and it shows \u201cout of service\u201d. This can't be undone; to use it again, enroll it with a new code.`),
        confirm: "Revoke kiosk",
        danger: true,
      });
      if (!yes) {
        b.focus();
        return;
      }
      await busy(b, async () => {
        try {
          const after = await post<KioskView>(`/v1/admin/kiosks/${encodeURIComponent(k.id)}/revoke`);
          if (!ctx.current()) return;
          await kiosksView(ctx, alert("ok", `${after.name} is revoked`, "It can't reset or unlock anything any more."));
        } catch (e) {
          if (ended(e) || !ctx.current()) return;
          fill(result, errorBox(e, `${k.name} couldn't be revoked`));
        }
      });
    })();

  const columns: Column<KioskView>[] = [
    {
      title: "Name",
      cell: (k: KioskView) =>
        k.enrollment_code_id
          ? h("span", { class: "stack-cell" }, h("span", { class: "strong" }, k.name), h("span", { class: "cell-note" }, "Staging code ", h("span", { class: "mono" }, k.enrollment_code_id)))
          : h("span", { class: "strong" }, k.name),
    },
    { title: "Location", cell: (k: KioskView) => k.location || h("span", { class: "none" }, "—") },
    {
      title: "State",
      cell: (k: KioskView) => (k.state === "revoked" && k.revoked_at ? h("span", { class: "stack-cell" }, kioskState(k), h("span", { class: "cell-note" }, when(k.revoked_at))) : kioskState(k)),
    },
    { title: "Last seen", cell: (k: KioskView) => (k.state === "pending" ? h("span", { class: "none" }, "Never") : when(k.last_seen_at, { relative: true })) },
    { title: "Enrolled", cell: (k: KioskView) => when(k.enrolled_at ?? (k.state === "pending" ? k.created_at : undefined)), wide: true },
    { title: "Version", cell: (k: KioskView) => (k.version ? h("span", { class: "mono" }, k.version) : h("span", { class: "none" }, "—")), wide: true },
    { title: "Flows today", kind: "num" as const, cell: (k: KioskView) => k.flows_today.toLocaleString() },
  ];
  if (isAdmin)
    columns.push({
      title: "Actions",
      kind: "act" as const,
      cell: (k: KioskView) => {
        if (k.state === "revoked") return null;
        const b = btn("Revoke", { class: "btn-small btn-danger-quiet", "data-revoke": k.id, "aria-label": `Revoke ${k.name}` });
        b.addEventListener("click", () => revoke(k, b));
        return b;
      },
    });

  const sorted = list.slice().sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  const stale = list.filter((k) => k.stale && k.state === "enrolled").length;
  const body: Child[] = [];
  if (stale) body.push(alert("warn", `${plural(stale, "kiosk")} not seen for a day`, "Check that they are on and can reach the server."));
  body.push(
    panel(
      null,
      list.length
        ? table("Kiosks", columns, sorted, (k) => ({ "data-kiosk": k.id, "data-state": k.state, class: k.stale ? "row-warn" : k.state === "revoked" ? "row-muted" : "" }))
        : empty("No kiosks yet", isAdmin ? "Make an enrollment code to stage one." : "An administrator makes an enrollment code to stage one."),
    ),
  );
  if (codes.length) body.push(stagingCodes(codes));
  fill(ctx.main, head, result, isAdmin ? newKiosk(ctx) : null, ...body);
  ctx.ready();
}

function order(k: KioskView): number {
  return k.state === "revoked" ? 2 : k.state === "pending" ? 1 : 0;
}

/** A whole number typed in a field, or null if it isn't one. */
function wholeNumber(input: HTMLInputElement): number | null {
  const v = input.value.trim();
  return /^[0-9]{1,6}$/.test(v) ? Number(v) : null;
}

function newKiosk(ctx: Ctx): HTMLElement {
  const name = textInput({ id: "kiosk-name", maxlength: 80, required: true, placeholder: "Front desk" });
  const location = textInput({ id: "kiosk-location", maxlength: 80, placeholder: "Building A, lobby" });
  const uses = textInput({ id: "kiosk-uses", inputmode: "numeric", class: "input input-num", value: "1", maxlength: 6 });
  const days = textInput({ id: "kiosk-days", inputmode: "numeric", class: "input input-num", value: "7", maxlength: 2 });
  const err = h("div", { class: "form-error", "aria-live": "assertive" });
  const go = h("button", { type: "submit", class: "btn btn-primary", id: "kiosk-create" }, "Make enrollment code") as HTMLButtonElement;
  const out = h("div", { id: "enrollment-slot" });
  const nameRow = fieldRow("Kiosk name", name);
  const nameLabel = nameRow.querySelector<HTMLElement>(".form-label");
  const daysRow = fieldRow("Valid for (days)", days, "1 to 90");
  const usesRow = fieldRow("Number of PCs", uses, "More than 1: each PC enrolls under its host name");
  const several = () => (wholeNumber(uses) ?? 1) > 1;
  // Several PCs: the name becomes the prefix of PCs that send no host name, and the code
  // gets a lifetime in days.
  const shape = () => {
    const many = several();
    daysRow.hidden = !many;
    if (nameLabel) nameLabel.textContent = many ? "Name prefix (optional)" : "Kiosk name";
    name.required = !many;
    name.placeholder = many ? "pc" : "Front desk";
  };
  uses.addEventListener("input", shape);
  shape();
  const form = h(
    "form",
    { class: "inline-form", novalidate: true, id: "kiosk-form" },
    nameRow,
    fieldRow("Location", location),
    usesRow,
    daysRow,
    h("div", { class: "inline-form-go" }, go),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    fill(err);
    const n = name.value.trim();
    const count = wholeNumber(uses);
    if (count === null || count < 1 || count > 10000) {
      fill(err, alert("error", "Enter the number of PCs, 1 to 10,000.", "One makes a code for one named kiosk; more make a staging code that each PC uses once."));
      uses.focus();
      return;
    }
    const validDays = wholeNumber(days);
    if (count > 1 && (validDays === null || validDays < 1 || validDays > 90)) {
      fill(err, alert("error", "Enter how many days the code is valid, 1 to 90.", "PCs staged after that need a new code."));
      days.focus();
      return;
    }
    if (count === 1 && !n) {
      fill(err, alert("error", "Enter a name for the kiosk.", "People see it at the bottom of the kiosk's screen; the audit log names it."));
      name.focus();
      return;
    }
    const body: EnrollmentCodeRequest = count > 1 ? { name: n, location: location.value.trim(), uses: count, valid_days: validDays ?? 7 } : { name: n, location: location.value.trim() };
    void busy(
      go,
      async () => {
        try {
          const code = await post<EnrollmentCodeView>("/v1/admin/kiosks/enrollment-codes", body);
          if (!ctx.current()) return;
          // The list gets the new (pending) kiosk or staging code; the code stays on
          // screen above it.
          await kiosksView(ctx);
          const slot = ctx.main.querySelector<HTMLElement>("#enrollment-slot");
          if (slot) {
            const card = enrollmentCard(code, n);
            fill(slot, card);
            card.focus();
          }
        } catch (e2) {
          if (ended(e2) || !ctx.current()) return;
          fill(err, errorBox(e2, "No code was made"));
        }
      },
      "Making the code…",
    );
  });
  return h(
    "div",
    {},
    panel("New kiosk", h("p", { class: "panel-lead" }, "Make a one-time code for a kiosk, or a staging code for many PCs, then use it on each to enroll it."), form, err),
    out,
  );
}
