// Usage & insights: resets and unlocks over time, the funnel from a started flow to a
// written password, each method's use, why attempts failed (overall, by kiosk, by
// directory), and registration coverage, from `GET /v1/admin/insights` and
// `GET /v1/admin/coverage`. The filters live in the URL's fragment, as the audit's do.
// Every chart has its numbers in a table beside or under it, and every table exports as CSV.
import { get, query } from "./admin-api";
import { eventLabel } from "./admin-audit";
import { COLOR, columns, dropCharts, rows as barRows, type Series } from "./admin-chart";
import type { Ctx } from "./admin-ctx";
import {
  alert,
  btn,
  busy,
  csvButton,
  csvText,
  duration,
  empty,
  ended,
  errorBox,
  fieldRow,
  fill,
  groupSearch,
  h,
  loading,
  methodLabel,
  nextId,
  pill,
  plural,
  table,
  textInput,
  viewHead,
  words,
  type Child,
  type CsvValue,
} from "./admin-ui";
import type { Count, CoverageView, DirectoryStatus, FunnelStage, InsightsView, KioskView, UncoveredPerson } from "./types";

const DAY = 86_400_000;

const RANGES: [string, string][] = [
  ["7", "Last 7 days"],
  ["30", "Last 30 days"],
  ["90", "Last 90 days"],
  ["365", "Last 12 months"],
  ["custom", "Custom dates"],
];

const BUCKETS: [string, string][] = [
  ["day", "Day"],
  ["week", "Week"],
  ["month", "Month"],
];

interface Filters {
  /** "7", "30", "90", "365" or "custom". */
  range: string;
  /** UTC days, "2025-03-01", for a custom range (both included). */
  from: string;
  to: string;
  bucket: string;
  kiosk: string;
  directory: string;
  group: string;
}

// ---- time ------------------------------------------------------------------------------

function todayStart(): number {
  const n = new Date();
  return Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), n.getUTCDate());
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoZ = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const validDay = (s: string | undefined): s is string => !!s && /^\d{4}-\d{2}-\d{2}$/.test(s) && !isNaN(Date.parse(`${s}T00:00:00Z`));

function days(f: Filters): number {
  if (f.range !== "custom") return Number(f.range);
  return Math.round((Date.parse(`${f.to}T00:00:00Z`) - Date.parse(`${f.from}T00:00:00Z`)) / DAY) + 1;
}

/** A bucket that gives a readable number of bars for the range. */
function defaultBucket(f: Filters): string {
  const n = days(f);
  return n > 190 ? "month" : n > 45 ? "week" : "day";
}

/** The range as the server takes it: whole UTC days, today's up to now. */
function span(f: Filters): { from: string; to: string } {
  if (f.range === "custom") return { from: `${f.from}T00:00:00Z`, to: isoZ(Date.parse(`${f.to}T00:00:00Z`) + DAY) };
  return { from: isoZ(todayStart() - (Number(f.range) - 1) * DAY), to: isoZ(Date.now()) };
}

function fromParams(p: Record<string, string>): Filters {
  const range = RANGES.some((r) => r[0] === p.range) ? p.range : "30";
  const f: Filters = {
    range,
    from: validDay(p.from) ? p.from : isoDay(todayStart() - 29 * DAY),
    to: validDay(p.to) ? p.to : isoDay(todayStart()),
    bucket: "",
    kiosk: p.kiosk ?? "",
    directory: p.directory ?? "",
    group: p.group ?? "",
  };
  f.bucket = BUCKETS.some((b) => b[0] === p.bucket) ? p.bucket : defaultBucket(f);
  return f;
}

/** What the fragment keeps: only what differs from the defaults. */
function toParams(f: Filters): Record<string, string> {
  const custom = f.range === "custom";
  return {
    range: f.range === "30" ? "" : f.range,
    from: custom ? f.from : "",
    to: custom ? f.to : "",
    bucket: f.bucket === defaultBucket(f) ? "" : f.bucket,
    kiosk: f.kiosk,
    directory: f.directory,
    group: f.group,
  };
}

const UTC: Intl.DateTimeFormatOptions = { timeZone: "UTC" };

function dayText(ms: number, year: boolean): string {
  return new Date(ms).toLocaleDateString(undefined, { ...UTC, month: "short", day: "numeric", ...(year ? { year: "numeric" } : {}) });
}

/** A bucket's name: "Mar 12", "Mar 10" (a week's Monday), "Mar 2025"; `long` for tables. */
function bucketText(iso: string, bucket: string, long: boolean): string {
  const ms = Date.parse(iso);
  if (bucket === "month") return new Date(ms).toLocaleDateString(undefined, { ...UTC, month: long ? "long" : "short", year: "numeric" });
  const text = dayText(ms, long);
  return bucket === "week" && long ? `Week of ${text}` : text;
}

/** "Mar 2 – Mar 31, 2025" for the days the report covers. */
function rangeText(view: InsightsView): string {
  const from = Date.parse(view.from);
  const to = Date.parse(view.to) - 1000;
  const sameYear = new Date(from).getUTCFullYear() === new Date(to).getUTCFullYear();
  if (isoDay(from) === isoDay(to)) return dayText(from, true);
  return `${dayText(from, !sameYear)} \u2013 ${dayText(to, true)}`;
}

// ---- words and numbers -----------------------------------------------------------------

function pct(n: number, of: number): string {
  if (!of) return "\u2014";
  const p = (n * 100) / of;
  return `${p > 0 && p < 1 ? "<1" : Math.round(p)}%`;
}

/** "verify_failed: wrong_code" → "Verification failed: wrong code". */
function reasonText(key: string): string {
  const at = key.indexOf(": ");
  if (at < 0) return eventLabel(key);
  return `${eventLabel(key.slice(0, at))}: ${words(key.slice(at + 2)).toLowerCase()}`;
}

const STAGES: Record<string, { label: string; short: string; hint: string }> = {
  started: { label: "Started", short: "Started", hint: "Flows begun at a kiosk (decoys aside)." },
  first_method: { label: "First method passed", short: "1st method", hint: "Proved who they are with one method." },
  second_method: { label: "Second method passed", short: "2nd method", hint: "Of the flows that needed two methods." },
  verified: { label: "Verified", short: "Verified", hint: "Passed every method the policy asks for." },
  written: { label: "Done", short: "Done", hint: "Password reset or account unlocked in the directory." },
};

/** Methods' names short enough for a chart's axis on a phone. */
const METHOD_SHORT: Record<string, string> = {
  email: "Email",
  totp: "Authenticator",
  approval: "Approval",
  sms: "SMS",
  voice: "Voice",
  questions: "Questions",
};

function stageLabel(s: string): string {
  return STAGES[s]?.label ?? words(s);
}

/** "2 min 23 s" with its units small, to fit a tile. */
function timeTile(secs: number): HTMLElement {
  const el = h("span", { class: "tile-time" });
  for (const part of duration(secs).split(" ")) el.appendChild(/^\d+$/.test(part) ? document.createTextNode(part) : h("span", { class: "tile-unit" }, ` ${part} `));
  return el;
}

// ---- building blocks -------------------------------------------------------------------

/** A panel with its title, buttons on the title's line, and a line under it. */
function section(title: string, id: string, lead: Child, actions: Child[], ...body: Child[]): HTMLElement {
  const tid = nextId("panel");
  return h(
    "section",
    { class: "panel", id, "aria-labelledby": tid },
    h("div", { class: "panel-head" }, h("h2", { class: "panel-title", id: tid }, title), actions.some(Boolean) ? h("div", { class: "panel-actions" }, ...actions) : null),
    lead ? h("p", { class: "panel-lead" }, lead) : null,
    ...body,
  );
}

interface Col {
  title: string;
  num?: boolean;
  key?: string;
}

/** A compact table of figures (it stays a table on a phone). */
function figures(caption: string, cols: Col[], body: Child[][], rowAttrs: Record<string, string>[] = [], id?: string): HTMLElement {
  return h(
    "div",
    { class: "ntable-wrap" },
    h(
      "table",
      { class: "ntable", id },
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col", class: c.num ? "num" : undefined }, c.title)))),
      h(
        "tbody",
        {},
        ...body.map((r, i) =>
          h(
            "tr",
            rowAttrs[i] ?? {},
            ...r.map((cell, j) => (j === 0 ? h("th", { scope: "row" }, cell) : h("td", { class: cols[j]?.num ? "num" : undefined, "data-col": cols[j]?.key }, cell))),
          ),
        ),
      ),
    ),
  );
}

/** A count with a bar for its share of the largest. */
function share(n: number, max: number): HTMLElement {
  const bar = h("span", { class: "share-fill" });
  bar.style.width = `${max ? Math.max(2, Math.round((n * 100) / max)) : 0}%`;
  return h("span", { class: "share" }, h("span", { class: "share-n" }, n.toLocaleString()), h("span", { class: "share-bar", "aria-hidden": "true" }, bar));
}

function tile(label: string, value: Child, id: string, note?: string): HTMLElement {
  return h("div", { class: "tile", id }, h("p", { class: "tile-value" }, value), h("p", { class: "tile-label" }, label), note ? h("p", { class: "tile-note" }, note) : null);
}

function select(id: string, options: [string, string][], value: string): HTMLSelectElement {
  return h("select", { id, class: "input" }, ...options.map((o) => h("option", { value: o[0], selected: o[0] === value }, o[1]))) as HTMLSelectElement;
}

// ---- the view --------------------------------------------------------------------------

export async function insightsView(ctx: Ctx): Promise<void> {
  dropCharts();
  const staff = ctx.has("admin") || ctx.has("helpdesk");
  const start = fromParams(ctx.params);
  const head = viewHead("Usage & insights", "How people use self-service: resets and unlocks, where attempts stop and why, and who can't use it yet.");

  // -- filters
  const fRange = select("f-range", RANGES, start.range);
  const fFrom = h("input", { type: "date", id: "f-from", class: "input", value: start.from, max: isoDay(todayStart()) }) as HTMLInputElement;
  const fTo = h("input", { type: "date", id: "f-to", class: "input", value: start.to, max: isoDay(todayStart()) }) as HTMLInputElement;
  const fBucket = select("f-bucket", BUCKETS, start.bucket);
  // A kiosk is chosen by name; its id goes to the server. Only staff may list kiosks.
  const fKiosk = staff ? (h("select", { id: "f-kiosk", class: "input" }, h("option", { value: "" }, "Any kiosk")) as HTMLSelectElement) : null;
  if (fKiosk && start.kiosk) fKiosk.appendChild(h("option", { value: start.kiosk, selected: true }, start.kiosk));
  const fDir = h("select", { id: "f-directory", class: "input" }, h("option", { value: "" }, "Any directory")) as HTMLSelectElement;
  if (start.directory) fDir.appendChild(h("option", { value: start.directory, selected: true }, start.directory));
  const fGroup = textInput({ id: "f-group", value: start.group, maxlength: 256, placeholder: "Anyone" });

  const rangeRow = fieldRow("Time range", fRange);
  rangeRow.classList.add("filters-wide-narrow");
  const fromRow = fieldRow("From (UTC day)", fFrom);
  const toRow = fieldRow("To (UTC day)", fTo);
  const dirRow = fieldRow("Directory", fDir);
  dirRow.hidden = !start.directory;
  const groupRow = fieldRow("Members of group", fGroup);
  groupRow.classList.add("filters-wide");
  const showCustom = () => {
    const custom = fRange.value === "custom";
    fromRow.hidden = !custom;
    toRow.hidden = !custom;
  };
  showCustom();

  if (fKiosk)
    void get<KioskView[]>("/v1/admin/kiosks").then(
      (list) => {
        const chosen = fKiosk.value;
        fill(
          fKiosk,
          h("option", { value: "" }, "Any kiosk"),
          ...list
            .filter((k) => k.state !== "pending")
            .map((k) => h("option", { value: k.id, selected: k.id === chosen }, `${k.name}${k.location ? ` (${k.location})` : ""}${k.state === "revoked" ? " \u2014 revoked" : ""}`)),
          chosen && !list.some((k) => k.id === chosen) ? h("option", { value: chosen, selected: true }, chosen) : null,
        );
      },
      () => undefined,
    );
  // With one directory there is nothing to choose.
  void get<DirectoryStatus[]>("/v1/admin/directories").then(
    (list) => {
      const chosen = fDir.value;
      fill(fDir, h("option", { value: "" }, "Any directory"), ...list.map((d) => h("option", { value: d.name, selected: d.name === chosen }, d.name)), chosen && !list.some((d) => d.name === chosen) ? h("option", { value: chosen, selected: true }, chosen) : null);
      dirRow.hidden = list.length < 2 && !chosen;
    },
    () => undefined,
  );

  const apply = h("button", { type: "submit", class: "btn btn-primary", id: "insights-apply" }, "Show") as HTMLButtonElement;
  const reset = btn("Reset filters", { id: "insights-reset" });
  const problem = h("div", { class: "form-error", id: "insights-filter-error", "aria-live": "assertive" });
  const form = h(
    "form",
    { class: "filters", id: "insights-filters", novalidate: true, role: "search", "aria-label": "Filter the insights" },
    h(
      "div",
      { class: "filters-grid" },
      rangeRow,
      fromRow,
      toRow,
      fieldRow("Bars by", fBucket),
      fKiosk ? fieldRow("Kiosk", fKiosk) : null,
      dirRow,
      groupRow,
    ),
    problem,
    h("div", { class: "filters-actions" }, h("div", { class: "filters-go" }, apply, reset), h("p", { class: "muted filters-note" }, "Days are UTC days. A group counts its members as the directory lists them now.")),
  );
  groupSearch(fGroup, (q) => get<string[]>(`/v1/admin/groups${query({ q })}`));

  fRange.addEventListener("change", () => {
    showCustom();
    // A new range brings its usual bars (a year by month); they can still be changed.
    fBucket.value = defaultBucket(read());
  });

  const read = (): Filters => ({
    range: fRange.value,
    from: fFrom.value,
    to: fTo.value,
    bucket: fBucket.value,
    kiosk: fKiosk?.value ?? "",
    directory: fDir.value,
    group: fGroup.value.trim(),
  });
  const check = (f: Filters): string | null => {
    if (f.range !== "custom") return null;
    if (!validDay(f.from) || !validDay(f.to)) return "Enter both days of the custom range.";
    if (f.from > f.to) return "The first day must not be after the last.";
    if (days(f) > 3 * 366) return "A report covers three years at most.";
    return null;
  };

  // -- results
  const results = h("div", { id: "insights-results", "aria-live": "polite", "aria-busy": "false" });
  const coverageSlot = h("div", { id: "coverage-slot" });

  const run = async (f: Filters): Promise<boolean> => {
    ctx.replaceParams(toParams(f));
    results.setAttribute("aria-busy", "true");
    fill(results, loading("Counting…"));
    const s = span(f);
    try {
      const view = await get<InsightsView>(`/v1/admin/insights${query({ from: s.from, to: s.to, bucket: f.bucket, kiosk: f.kiosk, directory: f.directory, group: f.group })}`);
      if (!ctx.current()) return false;
      dropCharts();
      fill(results, ...report(view, f));
      return true;
    } catch (e) {
      if (ended(e) || !ctx.current()) return false;
      fill(results, errorBox(e, "The insights couldn't be counted"));
      return false;
    } finally {
      results.setAttribute("aria-busy", "false");
    }
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = read();
    const why = check(f);
    fill(problem, why ? alert("error", why) : null);
    if (why) {
      (f.from > f.to || !validDay(f.from) ? fFrom : fTo).focus();
      return;
    }
    void busy(apply, () => run(f).then((ok) => (ok ? ctx.ready() : ctx.failed())), "Counting…");
  });
  reset.addEventListener("click", () => {
    const f = fromParams({});
    fRange.value = f.range;
    fFrom.value = f.from;
    fTo.value = f.to;
    fBucket.value = f.bucket;
    if (fKiosk) fKiosk.value = "";
    fDir.value = "";
    fGroup.value = "";
    fill(problem);
    showCustom();
    void busy(reset, () => run(f).then((ok) => (ok ? ctx.ready() : ctx.failed())));
  });

  // The filters fold away on a phone unless some are set; open at a desk.
  const set = [start.range !== "30", !!start.kiosk, !!start.directory, !!start.group].filter(Boolean).length;
  const box = h(
    "details",
    { class: "panel filters-box", id: "insights-filters-box", open: set > 0 || window.matchMedia("(min-width: 761px)").matches },
    h("summary", { class: "filters-summary" }, h("span", { class: "caret", "aria-hidden": "true" }), "Filters", set ? h("span", { class: "pill pill-info" }, `${set} set`) : null),
    form,
  );
  fill(ctx.main, head, box, results, coverageSlot);
  const [ok] = await Promise.all([run(start), coverage(ctx, coverageSlot)]);
  if (!ctx.current()) return;
  if (ok) ctx.ready();
  else ctx.failed();
}

// ---- the report ------------------------------------------------------------------------

function report(v: InsightsView, f: Filters): Child[] {
  const sum = (k: "started" | "resets" | "unlocks" | "failed") => v.series.reduce((n, b) => n + b[k], 0);
  const started = sum("started");
  const file = (what: string) => () => `sspr-${what}-${v.from.slice(0, 10)}-to-${isoDay(Date.parse(v.to) - 1000)}.csv`;
  const filters: string[] = [];
  if (f.kiosk) filters.push("one kiosk");
  if (f.directory) filters.push(`directory ${f.directory}`);
  if (f.group) filters.push(`members of ${f.group}`);

  const out: Child[] = [];
  out.push(
    h(
      "p",
      { class: "insights-range", id: "insights-range" },
      h("span", { class: "strong" }, rangeText(v)),
      " (UTC)",
      filters.length ? ` \u00b7 ${filters.join(" \u00b7 ")}` : "",
    ),
  );
  out.push(
    h(
      "div",
      { class: "tiles tiles-5 insights-tiles", id: "insights-totals" },
      tile("Flows started", started.toLocaleString(), "in-started"),
      tile("Passwords reset", sum("resets").toLocaleString(), "in-resets"),
      tile("Accounts unlocked", sum("unlocks").toLocaleString(), "in-unlocks"),
      tile("Didn't finish", sum("failed").toLocaleString(), "in-failed", started ? `${pct(sum("failed"), started)} of started` : undefined),
      tile("Median time to done", v.median_secs_to_done === undefined || v.median_secs_to_done === null ? "\u2014" : timeTile(v.median_secs_to_done), "in-median"),
    ),
  );
  out.push(
    h(
      "p",
      { class: "decoys", id: "insights-decoys" },
      v.decoys
        ? h(
            "span",
            {},
            h("span", { class: "strong" }, `Not counted above: ${plural(v.decoys, "attempt")} `),
            "for logins that couldn't have worked (nobody by that name, disabled, outside self-service, or nothing registered). The kiosk carried on as usual for them.",
          )
        : "No attempts for logins that couldn't have worked.",
    ),
  );

  if (!started) {
    out.push(empty("No flows in this range", "Nobody started a reset or an unlock at a kiosk here. Try a longer range or fewer filters."));
  } else {
    out.push(overTime(v, file));
    out.push(funnel(v, file), methods(v, file));
  }
  if (started || v.failures.length) out.push(failures(v, file));
  return out;
}

function overTime(v: InsightsView, file: (what: string) => () => string): HTMLElement {
  const by = v.bucket === "month" ? "month" : v.bucket === "week" ? "week" : "day";
  const labels = v.series.map((b) => bucketText(b.start, v.bucket, false));
  const series: Series[] = [
    { label: "Passwords reset", data: v.series.map((b) => b.resets), color: COLOR.reset, stack: "done" },
    { label: "Accounts unlocked", data: v.series.map((b) => b.unlocks), color: COLOR.unlock, stack: "done" },
    { label: "Didn't finish", data: v.series.map((b) => b.failed), color: COLOR.failed, stack: "failed" },
  ];
  // Flows still under way (started recently, nothing written yet) sit on the red.
  const open = v.series.map((b) => Math.max(0, b.started - b.resets - b.unlocks - b.failed));
  if (open.some((n) => n > 0)) series.push({ label: "Still under way", data: open, color: COLOR.open, stack: "failed" });
  const rowsOf = v.series.map((b) => [bucketText(b.start, v.bucket, true), b.started.toLocaleString(), b.resets.toLocaleString(), b.unlocks.toLocaleString(), b.failed.toLocaleString()]);
  const csv = () => csvText(["period_start", "started", "resets", "unlocks", "failed"], v.series.map((b) => [b.start, b.started, b.resets, b.unlocks, b.failed]));
  return section(
    "Resets and unlocks over time",
    "over-time",
    `By ${by}, as the flows started: what was done (blue) beside what wasn't (red)${open.some((n) => n > 0) ? ", and what is still under way (grey)" : ""}.`,
    [csvButton("resets and unlocks by " + by, file(`usage-by-${by}`), csv, "over-time-csv")],
    columns(`Bar chart: passwords reset and accounts unlocked, stacked, beside flows that didn't finish, by ${by}. The numbers are in the table under it.`, labels, series, { stacked: true, id: "chart-over-time" }),
    h(
      "details",
      { class: "chart-data" },
      h("summary", {}, h("span", { class: "caret", "aria-hidden": "true" }), `The numbers by ${by}`),
      figures(
        `Flows by ${by}`,
        [{ title: by === "month" ? "Month" : by === "week" ? "Week" : "Day" }, { title: "Started", num: true }, { title: "Reset", num: true }, { title: "Unlocked", num: true }, { title: "Didn't finish", num: true }],
        rowsOf,
        [],
        "over-time-table",
      ),
    ),
  );
}

function funnel(v: InsightsView, file: (what: string) => () => string): HTMLElement {
  const of = (s: string) => v.funnel.find((x) => x.stage === s)?.flows ?? 0;
  const started = of("started");
  const two = v.needing_two;
  // Drop-off: from the step before on the way every flow takes; the second method's
  // from the flows that needed it.
  const before: Record<string, number> = { first_method: started, second_method: two, verified: of("first_method"), written: of("verified") };
  const stages = v.funnel.filter((s) => s.stage !== "second_method" || two > 0);
  const shareText = (s: FunnelStage) => (s.stage === "second_method" ? pct(s.flows, two) : pct(s.flows, started));
  const lost = (s: FunnelStage): number | null => (s.stage in before ? Math.max(0, before[s.stage] - s.flows) : null);
  const chart = barRows(
    `Bar chart of the funnel: ${stages.map((s) => `${stageLabel(s.stage)} ${s.flows}`).join(", ")}. The numbers are in the table beside it.`,
    stages.map((s) => STAGES[s.stage]?.short ?? words(s.stage)),
    stages.map((s) => s.flows),
    stages.map((s) => (s.stage === "second_method" ? COLOR.stageSide : COLOR.stage)),
    stages.map((s) => (s.stage === "second_method" ? `${s.flows.toLocaleString()} of ${two.toLocaleString()}` : `${s.flows.toLocaleString()} \u00b7 ${pct(s.flows, started)}`)),
    "chart-funnel",
  );
  const tableEl = figures(
    "The funnel: flows at each stage",
    [{ title: "Stage" }, { title: "Flows", num: true, key: "flows" }, { title: "Share", num: true, key: "share" }, { title: "Lost", num: true, key: "lost" }],
    stages.map((s) => {
      const l = lost(s);
      return [
        h(
          "span",
          { class: "stack-cell" },
          h("span", { class: "stage-name", title: STAGES[s.stage]?.hint }, stageLabel(s.stage)),
          s.stage === "second_method" ? h("span", { class: "cell-note" }, `Share of the ${plural(two, "flow")} that needed two`) : null,
        ),
        s.flows.toLocaleString(),
        shareText(s),
        l === null ? h("span", { class: "none" }, "\u2014") : l ? h("span", { class: "lost" }, `\u2212${l.toLocaleString()}`) : "0",
      ];
    }),
    stages.map((s) => ({ "data-stage": s.stage })),
    "funnel-table",
  );
  const csv = () =>
    csvText(
      ["stage", "flows", "percent", "of", "lost"],
      stages.map((s) => {
        const base = s.stage === "second_method" ? two : started;
        return [s.stage, s.flows, base ? Math.round((s.flows * 1000) / base) / 10 : "", s.stage === "second_method" ? "needing_two" : "started", lost(s) ?? ""];
      }),
    );
  return section(
    "Where attempts stop",
    "funnel",
    "From a started flow to a written password or unlock. \u201cShare\u201d is of the flows started; \u201cLost\u201d counts those that stopped since the step before.",
    [csvButton("the funnel", file("funnel"), csv, "funnel-csv")],
    h("div", { class: "split" }, chart, tableEl),
  );
}

function methods(v: InsightsView, file: (what: string) => () => string): HTMLElement {
  const list = v.methods;
  const csv = () =>
    csvText(
      ["method", "sent", "delivered", "undelivered", "verified", "failed", "registered"],
      list.map((m) => [m.method, m.sent, m.delivered, m.undelivered, m.verified, m.failed, m.registered]),
    );
  // Texts and calls go through gateways: what they took, and what every gateway failed.
  const gateway = (m: InsightsView["methods"][number]) => m.method === "sms" || m.method === "voice";
  const notDelivered = (m: InsightsView["methods"][number]) => (gateway(m) ? m.undelivered.toLocaleString() : "—");
  if (!list.length) return section("By method", "by-method", null, [], empty("No method was used"));
  return section(
    "By method",
    "by-method",
    "Codes sent or approvals shown, and how they ended. \u201cNot delivered\u201d: texts and calls every gateway failed (the person was asked to choose another method). \u201cPeople\u201d have the method registered now.",
    [csvButton("the methods", file("methods"), csv, "methods-csv")],
    h(
      "div",
      { class: "split" },
    columns(
      `Bar chart by method of what was sent, verified and failed: ${list.map((m) => `${methodLabel(m.method)} ${m.sent} sent, ${m.verified} verified, ${m.failed} failed`).join("; ")}. The numbers are in the table beside it.`,
      list.map((m) => METHOD_SHORT[m.method] ?? methodLabel(m.method)),
      [
        { label: "Sent", data: list.map((m) => m.sent), color: COLOR.sent },
        { label: "Verified", data: list.map((m) => m.verified), color: COLOR.verified },
        { label: "Failed", data: list.map((m) => m.failed), color: COLOR.failed },
      ],
      { id: "chart-methods", every: true },
    ),
    figures(
      "Methods: sent, not delivered, verified, failed, and people who have it",
      [{ title: "Method" }, { title: "Sent", num: true, key: "sent" }, { title: "Not delivered", num: true, key: "undelivered" }, { title: "Verified", num: true, key: "verified" }, { title: "Failed", num: true, key: "failed" }, { title: "People", num: true, key: "registered" }],
      list.map((m) => [methodLabel(m.method), m.sent.toLocaleString(), notDelivered(m), m.verified.toLocaleString(), m.failed.toLocaleString(), m.registered.toLocaleString()]),
      list.map((m) => ({ "data-method": m.method })),
      "methods-table",
    ),
    ),
  );
}


function failures(v: InsightsView, file: (what: string) => () => string): HTMLElement {
  const block = (title: string, id: string, what: string, head: string, list: Count[], label: (k: string) => string, csvHead: string[], csvRow: (c: Count) => CsvValue[]) => {
    const max = list.reduce((m, c) => Math.max(m, c.count), 0);
    return h(
      "div",
      { class: "reasons", id },
      h("div", { class: "reasons-head" }, h("h3", {}, title), list.length ? csvButton(what, file(id), () => csvText(csvHead, list.map(csvRow)), `${id}-csv`) : null),
      list.length
        ? figures(
            title,
            [{ title: head }, { title: "Count", num: true, key: "count" }],
            list.map((c) => [label(c.key), share(c.count, max)]),
            list.map((c) => ({ "data-key": c.key })),
            `${id}-table`,
          )
        : h("p", { class: "muted reasons-none" }, "None."),
    );
  };
  return section(
    "Why attempts failed",
    "failures",
    "Wrong codes, refused passwords, directory errors and the like, most frequent first.",
    [],
    h(
      "div",
      { class: "reasons-grid" },
      block("Reasons", "failures-overall", "the failure reasons", "Reason", v.failures, reasonText, ["reason", "code", "count"], (c) => [reasonText(c.key), c.key, c.count]),
      block("By kiosk", "failures-kiosk", "the failures by kiosk", "Kiosk", v.failures_by_kiosk, (k) => k, ["kiosk", "count"], (c) => [c.key, c.count]),
      block("By directory", "failures-directory", "the failures by directory", "Directory", v.failures_by_directory, (k) => k, ["directory", "count"], (c) => [c.key, c.count]),
    ),
  );
}

// ---- registration coverage -------------------------------------------------------------

const NOT_READY_PAGE = 50;

async function coverage(ctx: Ctx, slot: HTMLElement): Promise<void> {
  const again = btn("Try again", { id: "coverage-retry" });
  again.addEventListener("click", () => void coverage(ctx, slot));
  const lead = "Right now, whatever the filters above: who self-service is on for, and who has registered enough methods to use it.";
  fill(slot, section("Registration coverage", "coverage", lead, [], loading("Counting people…")));
  let c: CoverageView;
  try {
    c = await get<CoverageView>("/v1/admin/coverage");
  } catch (e) {
    if (ended(e) || !ctx.current()) return;
    fill(slot, section("Registration coverage", "coverage", lead, [], errorBox(e, "Coverage couldn't be counted"), again));
    return;
  }
  if (!ctx.current()) return;
  const notReady = c.not_ready.length;
  const meter = h("span", { class: "meter-fill" });
  meter.style.width = `${c.enabled_people ? Math.round((c.ready * 100) / c.enabled_people) : 0}%`;
  const byCsv = () => csvText(["method", "people", "percent_of_enabled"], c.by_method.map((m) => [m.key, m.count, c.enabled_people ? Math.round((m.count * 1000) / c.enabled_people) / 10 : ""]));
  const maxBy = c.by_method.reduce((m, x) => Math.max(m, x.count), 0);

  const list = h("div", { id: "not-ready-list" });
  const drawList = (all: boolean) => {
    const shown = all ? c.not_ready : c.not_ready.slice(0, NOT_READY_PAGE);
    const more = btn(`Show all ${notReady.toLocaleString()}`, { id: "not-ready-more" });
    more.addEventListener("click", () => {
      drawList(true);
      list.querySelector<HTMLElement>(`tr:nth-child(${NOT_READY_PAGE + 1}) td`)?.focus();
    });
    fill(
      list,
      table<UncoveredPerson>(
        "People who can't use self-service yet",
        [
          { title: "Person", cell: (p) => h("span", { class: "stack-cell" }, h("span", { class: "strong" }, p.display_name || p.username), p.display_name ? h("span", { class: "cell-note mono" }, p.username) : null) },
          {
            title: "Registered",
            cell: (p) => (p.methods.length ? h("span", { class: "chips" }, ...p.methods.map((m) => h("span", { class: "chip" }, methodLabel(m)))) : h("span", { class: "none" }, "Nothing yet")),
          },
          {
            title: "Needs",
            cell: (p) => h("span", { class: "needs" }, plural(p.required, "method"), p.administrator ? pill("Administrator", "info") : null),
          },
        ],
        shown,
        (p) => ({ "data-username": p.username }),
      ),
      shown.length < notReady ? h("div", { class: "more-row" }, more) : null,
    );
  };
  if (notReady) drawList(false);

  fill(
    slot,
    section(
      "Registration coverage",
      "coverage",
      lead,
      [],
      c.note ? alert("warn", "The count may be short", c.note) : null,
      h(
        "div",
        { class: "tiles tiles-4", id: "coverage-tiles" },
        tile("People it is on for", c.enabled_people.toLocaleString(), "cov-enabled"),
        tile("Ready to use it", c.ready.toLocaleString(), "cov-ready"),
        h("div", { class: "tile", id: "cov-share" }, h("p", { class: "tile-value" }, pct(c.ready, c.enabled_people)), h("p", { class: "tile-label" }, "Ready, of those it is on for"), h("span", { class: "meter", "aria-hidden": "true" }, meter)),
        tile("Not ready yet", notReady.toLocaleString(), "cov-not-ready"),
      ),
      h(
        "div",
        { class: "coverage-body" },
        h(
          "div",
          { class: "reasons", id: "coverage-methods" },
          h("div", { class: "reasons-head" }, h("h3", {}, "Registered, by method"), csvButton("the people by method", () => "sspr-coverage-by-method.csv", byCsv, "coverage-methods-csv")),
          c.by_method.length
            ? figures(
                "People with each method registered",
                [{ title: "Method" }, { title: "People", num: true, key: "people" }, { title: "Share", num: true, key: "share" }],
                c.by_method.map((m) => [methodLabel(m.key), share(m.count, maxBy), pct(m.count, c.enabled_people)]),
                c.by_method.map((m) => ({ "data-method": m.key })),
                "coverage-methods-table",
              )
            : h("p", { class: "muted" }, "Nobody has registered a method yet."),
        ),
        h(
          "div",
          { class: "reasons", id: "not-ready" },
          h(
            "div",
            { class: "reasons-head" },
            h("h3", {}, "Not ready yet"),
            notReady ? h("a", { class: "btn btn-quiet btn-small", id: "not-ready-csv", href: "/v1/admin/coverage?format=csv", download: "sspr-not-ready.csv" }, "Download CSV") : null,
          ),
          notReady
            ? h("p", { class: "muted" }, `${plural(notReady, "person", "people")} can't pass the policy with what they registered. They register on \u201cMy security info\u201d.`)
            : h("p", { class: "all-good" }, h("span", { class: "ok-mark", "aria-hidden": "true" }), "Everyone can use self-service."),
          list,
        ),
      ),
    ),
  );
}
