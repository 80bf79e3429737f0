// The console's requests: JSON in and out, the session cookie (HttpOnly, path /v1/admin)
// sent by the browser, the session's CSRF token in `X-CSRF-Token` on every change, and
// every failure as the server's `{code, message}` body (a network failure or a proxy's
// error page get one too, in words).
import type { ConsoleSession, ErrorBody } from "./types";

/** A failed request; `body.message` is what the server said, for people. */
export class ApiError extends Error {
  readonly body: ErrorBody;
  readonly status: number;
  constructor(body: ErrorBody, status: number) {
    super(body.message);
    this.body = body;
    this.status = status;
  }
  get code(): string {
    return this.body.code;
  }
}

/**
 * The session ended (401 on a signed-in call): the shell has already shown the sign-in
 * form, so whoever made the call has nothing more to show.
 */
export class SessionEnded extends Error {}

type Method = "GET" | "POST" | "PUT" | "DELETE";

let csrf = "";
let ended: (() => void) | null = null;
let activity: (() => void) | null = null;

/** The signed-in session's token (empty when signed out). */
export function useSession(s: ConsoleSession | null): void {
  csrf = s ? s.csrf_token : "";
}

/** What to do when the server says the session has ended (idle for 15 minutes, or signed out elsewhere). */
export function onSessionEnded(fn: () => void): void {
  ended = fn;
}

/** Called after each answered request: the server counts it as activity. */
export function onActivity(fn: () => void): void {
  activity = fn;
}

export interface CallOptions {
  /** The sign-in calls: a 401 is a refused sign-in, not an ended session; no CSRF token. */
  signIn?: boolean;
  /** A 401 here is this call's own answer (a passkey not accepted), not an ended session. */
  own401?: boolean;
}

async function send(method: Method, path: string, body: unknown, opts: CallOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && !opts.signIn && csrf) headers["X-CSRF-Token"] = csrf;
  try {
    return await fetch(path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError({ code: "unreachable", message: "The server can't be reached. Check the connection and try again." }, 0);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    json = undefined;
  }
  const e = json as Partial<ErrorBody> | undefined;
  if (e && typeof e.code === "string" && typeof e.message === "string") return new ApiError(e as ErrorBody, res.status);
  // A proxy's error page, or no body at all: say what happened rather than show its HTML.
  const message =
    res.status >= 500
      ? `The server couldn't answer (HTTP ${res.status}). Nothing was changed. Try again in a moment.`
      : `The request was refused (HTTP ${res.status}).`;
  return new ApiError({ code: res.status >= 500 ? "internal" : "bad_request", message }, res.status);
}

/**
 * One request. 204 answers `undefined`. A stale CSRF token (403 csrf_invalid) is renewed
 * from the session once and the request sent again; an ended session (401 unauthorized
 * outside sign-in) calls the shell's handler and throws SessionEnded.
 */
export async function call<T>(method: Method, path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
  let res = await send(method, path, body, opts);
  if (res.status === 403 && method !== "GET" && !opts.signIn) {
    const err = await errorOf(res.clone());
    if (err.code === "csrf_invalid") {
      const fresh = await send("GET", "/v1/admin/session", undefined, {});
      if (fresh.ok) {
        useSession((await fresh.json()) as ConsoleSession);
        res = await send(method, path, body, opts);
      }
    }
  }
  if (res.status !== 401 || opts.signIn) activity?.();
  if (res.status === 204) return undefined as T;
  if (res.ok) {
    try {
      return (await res.json()) as T;
    } catch {
      throw new ApiError({ code: "internal", message: "The server's answer couldn't be read. Try again." }, res.status);
    }
  }
  const err = await errorOf(res);
  if (res.status === 401 && !opts.signIn && !opts.own401 && err.code === "unauthorized") {
    ended?.();
    throw new SessionEnded(err.message);
  }
  throw err;
}

export const get = <T>(path: string): Promise<T> => call<T>("GET", path);
export const post = <T>(path: string, body?: unknown): Promise<T> => call<T>("POST", path, body);
export const put = <T>(path: string, body?: unknown): Promise<T> => call<T>("PUT", path, body);

/** A query string of the non-empty values. */
export function query(params: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const k of Object.keys(params)) {
    const v = params[k];
    if (v === undefined || v === "") continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** The error body of anything thrown (a browser error becomes a generic one). */
export function errorBody(e: unknown): ErrorBody {
  if (e instanceof ApiError) return e.body;
  return { code: "internal", message: e instanceof Error && e.message ? e.message : "Something went wrong. Nothing was changed." };
}
