// Bar charts for Usage & insights, drawn by Chart.js (ui/package.json says why it earns its
// place): only the bar chart's parts are registered, so the bundle carries nothing else.
// Chart.js draws on a canvas and sizes it through the CSSOM, which the console's CSP
// (style-src 'self') allows; no animation, so what is drawn is what the numbers say at
// once. Every chart has a text alternative: its canvas is an image named in words, and the
// same numbers are in a table next to it.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartConfiguration, type Plugin } from "chart.js";
import { h } from "./admin-ui";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = "#4f5b6d";
Chart.defaults.borderColor = "#e8ecf2";
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

/** The charts' colours: success in blues, failure in red, what was sent in grey. */
export const COLOR = {
  reset: "#1f63b8",
  unlock: "#6fa8e8",
  failed: "#cf4a32",
  open: "#c3cbd7",
  sent: "#a3afc0",
  verified: "#2f8a57",
  stage: "#1f63b8",
  stageSide: "#8db8ec",
};

const live = new Set<Chart>();

/** Ends the charts drawn before (a view drawn again, or left). */
export function dropCharts(): void {
  for (const c of live) c.destroy();
  live.clear();
}

/** Text after each bar of the first dataset ("3 · 75%"). */
function barLabels(texts: string[]): Plugin<"bar"> {
  return {
    id: "barLabels",
    afterDatasetsDraw(chart) {
      const meta = chart.getDatasetMeta(0);
      const ctx = chart.ctx;
      ctx.save();
      ctx.font = `600 12px ${String(Chart.defaults.font.family)}`;
      ctx.fillStyle = "#1b2330";
      ctx.textBaseline = "middle";
      meta.data.forEach((bar, i) => {
        const p = bar.getProps(["x", "y"], true) as { x: number; y: number };
        if (texts[i]) ctx.fillText(texts[i], p.x + 8, p.y);
      });
      ctx.restore();
    },
  };
}

/**
 * A chart in a box of the CSS's height (`.chart-box`, or `.chart-box-<size>`). `label`
 * names it for screen readers and says where its numbers are.
 */
function chart(label: string, config: ChartConfiguration<"bar">, size = "", id?: string): HTMLElement {
  const canvas = h("canvas", { role: "img", "aria-label": label, id }) as HTMLCanvasElement;
  const box = h("div", { class: `chart-box${size ? ` chart-box-${size}` : ""}` }, canvas);
  // Drawn once the box is in the page (Chart.js waits for it to be attached).
  live.add(new Chart(canvas, config));
  return box;
}

export interface Series {
  label: string;
  data: number[];
  color: string;
  /** Bars of one stack are piled up; stacks stand side by side. */
  stack?: string;
}

/**
 * Vertical bars over `labels` (time or methods), stacked when the series say so. A label
 * given as lines is drawn on those lines; `every` draws every label (few bars).
 */
export function columns(label: string, labels: (string | string[])[], series: Series[], opts: { stacked?: boolean; id?: string; size?: string; every?: boolean } = {}): HTMLElement {
  const stacked = !!opts.stacked;
  return chart(
    label,
    {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s) => ({
          label: s.label,
          data: s.data,
          backgroundColor: s.color,
          stack: s.stack,
          borderRadius: 2,
          maxBarThickness: 36,
          categoryPercentage: 0.8,
          barPercentage: 0.9,
        })),
      },
      options: {
        responsive: true,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "top", align: "end", labels: { boxWidth: 12, boxHeight: 12, padding: 14 } },
          tooltip: { padding: 10, boxPadding: 4 },
        },
        scales: {
          x: { stacked, grid: { display: false }, ticks: { autoSkip: !opts.every, maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked, beginAtZero: true, ticks: { precision: 0 }, border: { display: false } },
        },
      },
    },
    opts.size,
    opts.id,
  );
}

/** Horizontal bars, one a row, each with its text after it. */
export function rows(label: string, labels: string[], values: number[], colors: string[], texts: string[], id?: string): HTMLElement {
  const max = Math.max(1, ...values);
  return chart(
    label,
    {
      type: "bar",
      data: { labels, datasets: [{ label, data: values, backgroundColor: colors, borderRadius: 3, maxBarThickness: 30, categoryPercentage: 0.82, barPercentage: 0.9 }] },
      options: {
        indexAxis: "y",
        responsive: true,
        // Room after the longest bar for its text.
        layout: { padding: { right: 84 } },
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: {
          x: { display: false, beginAtZero: true, max },
          y: { grid: { display: false }, border: { display: false }, ticks: { color: "#1b2330", font: { size: 12.5 } } },
        },
      },
      plugins: [barLabels(texts)],
    },
    "rows",
    id,
  );
}
