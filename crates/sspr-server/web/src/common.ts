// Talking to the server: JSON in, JSON out, and every failure as an ErrorBody, said in the
// page's language by its code (errorText). Also the bits both pages draw the same way.
import { h, safeHref } from "./dom";
import { has, t } from "./i18n";
import type { ErrorBody, Helpdesk } from "./types";

/** A failed request. `body.code` is "unreachable" when the server gave no answer at all. */
export class ApiError extends Error {
  readonly body: ErrorBody;
  readonly status: number;
  constructor(body: ErrorBody, status: number) {
    // The message is for people; it never holds a secret (the server sees to that).
    super(body.message);
    this.body = body;
    this.status = status;
  }
  get code(): string {
    return this.body.code;
  }
}

export function errorBody(e: unknown): ErrorBody {
  if (e instanceof ApiError) return e.body;
  return { code: "internal", message: t("error.generic") };
}

/**
 * The call an error answers, where one code means different things on different calls
 * ("unauthorized" on sign-in is a wrong password, elsewhere on /my an ended session).
 */
export type Call =
  | "approval"
  | "approval.number"
  | "approval.passkey"
  | "approval.password"
  | "my"
  | "my.signIn"
  | "my.second"
  | "my.passkey"
  | "my.totp"
  | "my.email"
  | "my.mobile"
  | "my.office"
  | "my.questions"
  | "my.review";

/**
 * An error in the page's language. The most specific text wins: for "approval.number",
 * error.approval.number.<code>, then error.approval.<code>, then error.<code>; with a
 * wait from the server, at each of those the ".wait" text first. The server's message is the fallback,
 * and a text may quote it (`{message}`: a rule only the server knows, in its words).
 */
export function errorText(e: ErrorBody, call: Call): string {
  const parts = call.split(".");
  const secs = e.retry_after_secs;
  for (let n = parts.length; n >= 0; n--) {
    for (const name of secs ? [`${e.code}.wait`, e.code] : [e.code]) {
      const key = ["error", ...parts.slice(0, n), name].join(".");
      if (has(key)) return t(key, { wait: secs ? waitText(secs) : "", message: e.message });
    }
  }
  return e.message;
}

/** 45 → "45 seconds", 300 → "5 minutes", 7200 → "about 2 hours": rounded up, never early. */
function waitText(secs: number): string {
  const s = Math.max(1, Math.ceil(secs));
  if (s < 60) return t("wait.seconds", { n: s });
  const m = Math.ceil(s / 60);
  if (m < 60) return t("wait.minutes", { n: m });
  return t("wait.hours", { n: Math.ceil(s / 3600) });
}

/**
 * One request to the API. Bodies go as JSON; 204 answers `undefined`. The cookie of
 * "My security info" rides along (same origin only); the phone page has none.
 */
export async function api<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError({ code: "unreachable", message: t("error.network") }, 0);
  }
  if (res.status === 204) return undefined as T;
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    json = undefined;
  }
  if (res.ok) return json as T;
  const e = json as Partial<ErrorBody> | undefined;
  if (e && typeof e.code === "string" && typeof e.message === "string") throw new ApiError(e as ErrorBody, res.status);
  // A proxy's error page, or no body: say so in words rather than show its HTML.
  throw new ApiError({ code: res.status >= 500 ? "internal" : "bad_request", message: t("error.generic") }, res.status);
}

/**
 * Uses the organisation's colour when the browser accepts it, with text on it in black or
 * white, whichever reads better (WCAG relative luminance).
 */
export function applyAccent(color: string): void {
  if (!color || !window.CSS || !CSS.supports("color", color)) return;
  const root = document.documentElement.style;
  root.setProperty("--accent", color);
  const probe = h("span", { class: "probe" });
  document.body.appendChild(probe);
  probe.style.color = color;
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(probe).color);
  probe.remove();
  if (!m) return;
  const lin = (c: string) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const l = 0.2126 * lin(m[1]) + 0.7152 * lin(m[2]) + 0.0722 * lin(m[3]);
  // Contrast with white is 1.05/(l+0.05): below 4.5, dark text on the colour, and dark
  // text instead of the colour on white.
  const readsOnWhite = 1.05 / (l + 0.05) >= 4.5;
  root.setProperty("--on-accent", readsOnWhite ? "#ffffff" : "#111418");
  root.setProperty("--accent-text", readsOnWhite ? color : "#1b2330");
}

/** The helpdesk's ways in, as links a phone can tap; null when none is configured. */
export function helpdeskBox(desk: Helpdesk | undefined): HTMLElement | null {
  if (!desk || (!desk.url && !desk.phone && !desk.email)) return null;
  const rows: HTMLElement[] = [];
  if (desk.phone) {
    rows.push(h("li", {}, h("span", { class: "desk-kind" }, t("help.phone")), h("a", { href: `tel:${desk.phone.replace(/[^\d+]/g, "")}` }, desk.phone)));
  }
  if (desk.url) {
    const href = safeHref(desk.url);
    rows.push(h("li", {}, h("span", { class: "desk-kind" }, t("help.web")), href ? h("a", { href, rel: "noopener noreferrer", target: "_blank" }, desk.url) : desk.url));
  }
  if (desk.email) {
    rows.push(h("li", {}, h("span", { class: "desk-kind" }, t("help.email")), h("a", { href: `mailto:${desk.email}` }, desk.email)));
  }
  return h("div", { class: "helpdesk", id: "helpdesk" }, h("p", { class: "helpdesk-title" }, t("help.contact")), h("ul", {}, ...rows));
}

/** 95 → "1:35". */
export function clock(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Sets the page's state for styles and tests: `<body data-state=...>`. */
export function setState(state: string): void {
  document.body.setAttribute("data-state", state);
}
