// The admin console (/admin): the shell. Sign-in (directory password, then a passkey), the
// session (an HttpOnly cookie; its CSRF token kept here, in memory only), the header, the
// navigation and the views, chosen by the URL's fragment (#overview, #kiosks, ...).
import { call, errorBody, onActivity, onSessionEnded, post, SessionEnded, useSession } from "./admin-api";
import { auditView, helpdeskView } from "./admin-audit";
import type { Ctx, ViewName } from "./admin-ctx";
import { insightsView } from "./admin-insights";
import { policyView } from "./admin-policy";
import { alert, btn, busy, confirmDialog, errorBox, fill, h, nextId, textInput } from "./admin-ui";
import { directoriesView, kiosksView, overviewView } from "./admin-views";
import type { ConsolePasskeyAnswer, ConsoleRole, ConsoleSession, ConsoleSignInRequest, PasskeyRequest } from "./types";
import { getAssertion, passkeysSupported } from "./webauthn";

// webauthn.ts brings the phone pages' texts, which set the document's language from the
// browser's; the console is in English.
document.documentElement.lang = "en";

const PRODUCT = "SSPR Kiosk admin";

interface NavItem {
  name: ViewName;
  title: string;
  roles: ConsoleRole[];
  draw: (ctx: Ctx) => Promise<void> | void;
}

const ALL: ConsoleRole[] = ["admin", "helpdesk", "reader"];
const STAFF: ConsoleRole[] = ["admin", "helpdesk"];

const NAV: { group: string; items: NavItem[] }[] = [
  {
    group: "Insights",
    items: [
      { name: "overview", title: "Overview", roles: ALL, draw: overviewView },
      { name: "insights", title: "Usage & insights", roles: ALL, draw: insightsView },
    ],
  },
  {
    group: "Policy",
    items: [
      { name: "properties", title: "Properties", roles: ALL, draw: (c) => policyView(c, "properties") },
      { name: "methods", title: "Authentication methods", roles: ALL, draw: (c) => policyView(c, "methods") },
      { name: "password-rules", title: "Password rules", roles: ALL, draw: (c) => policyView(c, "password-rules") },
      { name: "registration", title: "Registration", roles: ALL, draw: (c) => policyView(c, "registration") },
      { name: "notifications", title: "Notifications", roles: ALL, draw: (c) => policyView(c, "notifications") },
      { name: "customization", title: "Customization", roles: ALL, draw: (c) => policyView(c, "customization") },
    ],
  },
  {
    group: "Operations",
    items: [
      { name: "directories", title: "Directories", roles: STAFF, draw: directoriesView },
      { name: "kiosks", title: "Kiosks", roles: STAFF, draw: kiosksView },
    ],
  },
  {
    group: "Support",
    items: [
      { name: "audit", title: "Audit log", roles: STAFF, draw: auditView },
      { name: "helpdesk", title: "Helpdesk", roles: STAFF, draw: helpdeskView },
    ],
  },
];

const ROLE_NAME: Record<ConsoleRole, string> = { admin: "Administrator", helpdesk: "Helpdesk", reader: "Reader" };

// ---- the page's fixed parts ------------------------------------------------------------

const app = document.getElementById("app") as HTMLElement;
const orgEl = h("span", { class: "brand-org", id: "org" }, PRODUCT);
const sub = h("span", { class: "brand-sub", id: "brand-sub" });
const account = h("div", { class: "account", id: "account" });
const menuBtn = h("button", { type: "button", class: "menu-btn", id: "menu-btn", "aria-expanded": "false", "aria-controls": "nav", hidden: true }, h("span", { class: "menu-icon", "aria-hidden": "true" }), h("span", { class: "menu-text" }, "Menu")) as HTMLButtonElement;
const nav = h("nav", { class: "nav", id: "nav", "aria-label": "Console", hidden: true });
const main = h("main", { class: "main", id: "main", tabindex: -1 });
const skip = h("a", { class: "skip", href: "#main" }, "Skip to content");
skip.addEventListener("click", (e) => {
  e.preventDefault();
  (main.querySelector<HTMLElement>("h1") ?? main).focus();
});

fill(
  app,
  skip,
  h(
    "header",
    { class: "topbar" },
    menuBtn,
    h("div", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), h("span", { class: "brand-text" }, orgEl, sub)),
    account,
  ),
  h("div", { class: "shell" }, nav, main),
);

function setState(state: string): void {
  document.body.setAttribute("data-state", state);
}

// ---- session ---------------------------------------------------------------------------

let session: ConsoleSession | null = null;
let everSignedIn = false;
let idleTimer = 0;
let idleMs = 15 * 60 * 1000;

function adopt(s: ConsoleSession): void {
  session = s;
  everSignedIn = true;
  useSession(s);
  const left = new Date(s.idle_expires_at).getTime() - Date.now();
  if (left > 60_000) idleMs = left;
  armIdle();
}

// After the idle time with no request, the server has ended the session: ask it (an
// answer means another tab kept it alive) and show the sign-in if it has.
function armIdle(): void {
  window.clearTimeout(idleTimer);
  if (!session) return;
  idleTimer = window.setTimeout(() => {
    if (!session) return;
    call<ConsoleSession>("GET", "/v1/admin/session").then(
      (s) => adopt(s),
      () => undefined,
    );
  }, idleMs + 2000);
}

onActivity(armIdle);
onSessionEnded(() => {
  if (session || everSignedIn) signIn({ ended: true });
});

function header(): void {
  const s = session;
  fill(orgEl, s?.organization || PRODUCT);
  fill(sub, s ? "Admin console" : "");
  sub.hidden = !s;
  if (!s) {
    fill(account);
    return;
  }
  const out = btn("Sign out", { id: "sign-out", class: "btn-small" });
  out.addEventListener("click", () =>
    void busy(out, async () => {
      try {
        await post<void>("/v1/admin/sign-out");
      } catch (e) {
        // Already ended is signed out too.
        if (!(e instanceof SessionEnded)) {
          fill(main, errorBox(e, "Signing out didn't work"));
          return;
        }
      }
      session = null;
      useSession(null);
      signIn({ signedOut: true });
    }),
  );
  fill(
    account,
    h(
      "div",
      { class: "who" },
      h("span", { class: "who-name", id: "who-name" }, s.display_name || s.username),
      h("span", { class: "who-roles", id: "who-roles" }, s.roles.map((r) => ROLE_NAME[r] ?? r).join(", ")),
    ),
    out,
  );
}

// ---- navigation ------------------------------------------------------------------------

function allowed(item: NavItem): boolean {
  return !!session && item.roles.some((r) => session!.roles.includes(r));
}

function items(): NavItem[] {
  return NAV.flatMap((g) => g.items).filter(allowed);
}

function drawNav(active: ViewName): void {
  const groups = NAV.map((g) => ({ group: g.group, items: g.items.filter(allowed) })).filter((g) => g.items.length);
  const s = session;
  fill(
    nav,
    // On a phone the header has no room for who is signed in: the menu says it.
    s ? h("div", { class: "nav-who" }, h("span", { class: "nav-who-name" }, s.display_name || s.username), h("span", { class: "nav-who-roles" }, s.roles.map((r) => ROLE_NAME[r] ?? r).join(", "))) : null,
    ...groups.map((g) => {
      const id = nextId("nav");
      return h(
        "div",
        { class: "nav-group" },
        h("p", { class: "nav-title", id }, g.group),
        h(
          "ul",
          { "aria-labelledby": id },
          ...g.items.map((i) =>
            h(
              "li",
              {},
              h("a", { href: `#${i.name}`, class: "nav-link", "data-view": i.name, "aria-current": i.name === active ? "page" : undefined }, i.title),
            ),
          ),
        ),
      );
    }),
  );
}

function setMenu(open: boolean): void {
  document.body.classList.toggle("menu-open", open);
  menuBtn.setAttribute("aria-expanded", String(open));
}
menuBtn.addEventListener("click", () => setMenu(menuBtn.getAttribute("aria-expanded") !== "true"));
nav.addEventListener("click", (e) => {
  if ((e.target as HTMLElement).closest("a")) setMenu(false);
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && document.body.classList.contains("menu-open")) {
    setMenu(false);
    menuBtn.focus();
  }
});

interface Route {
  name: string;
  sub: string;
  params: Record<string, string>;
}

function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const qAt = raw.indexOf("?");
  const path = qAt < 0 ? raw : raw.slice(0, qAt);
  const q = qAt < 0 ? "" : raw.slice(qAt + 1);
  const segments = path.split("/");
  const name = segments[0];
  const rest = segments.slice(1);
  const params: Record<string, string> = {};
  for (const part of q.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? "" : part.slice(eq + 1);
    try {
      params[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, " "));
    } catch {
      // A mangled parameter is left out.
    }
  }
  let subPath = rest.join("/");
  try {
    subPath = decodeURIComponent(subPath);
  } catch {
    // kept as typed
  }
  return { name: name || "overview", sub: subPath, params };
}

let generation = 0;
let dirty: (() => boolean) | null = null;
let shownHash = "";

function route(): void {
  if (!session) return;
  const r = parseHash(location.hash);
  const list = items();
  const item = list.find((i) => i.name === r.name) ?? list[0];
  if (!item) return;
  if (item.name !== r.name) {
    history.replaceState(null, "", `#${item.name}`);
  }
  shownHash = location.hash;
  dirty = null;
  const mine = ++generation;
  drawNav(item.name);
  document.title = `${item.title} · ${session.organization || PRODUCT}`;
  setState("loading");
  fill(main);
  const ctx: Ctx = {
    session,
    main,
    params: r.params,
    sub: r.sub,
    has: (role) => !!session && session.roles.includes(role),
    ready: () => {
      if (mine === generation) setState(item.name);
    },
    failed: () => {
      if (mine === generation) setState("error");
    },
    current: () => mine === generation && !!session,
    reauth,
    guard: (fn) => {
      if (mine === generation) dirty = fn;
    },
    replaceParams: (params) => {
      const q = Object.keys(params)
        .filter((k) => params[k])
        .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k])}`)
        .join("&");
      const hash = `#${item.name}${r.sub ? `/${encodeURIComponent(r.sub)}` : ""}${q ? `?${q}` : ""}`;
      history.replaceState(null, "", hash);
      shownHash = hash;
    },
  };
  Promise.resolve()
    .then(() => item.draw(ctx))
    .catch((e: unknown) => {
      if (e instanceof SessionEnded || mine !== generation) return;
      fill(main, errorBox(e, "This page couldn't be shown"));
      setState("error");
    })
    .then(() => {
      if (mine !== generation) return;
      // Focus follows the view (unless the person is already in one of its fields).
      if (!main.contains(document.activeElement) || document.activeElement === main) main.querySelector<HTMLElement>("h1")?.focus();
    });
}

window.addEventListener("hashchange", () => {
  if (!session) return;
  if (location.hash === shownHash) return;
  const target = location.hash;
  if (dirty && dirty()) {
    // Stay until they say; the fragment goes back meanwhile.
    history.replaceState(null, "", shownHash);
    void confirmLeave(target);
    return;
  }
  route();
});

async function confirmLeave(target: string): Promise<void> {
  const leave = await confirmDialog({
    title: "Leave without saving?",
    text: "Your changes on this page aren't saved yet. Leave and lose them, or stay and save them.",
    confirm: "Leave without saving",
    cancel: "Stay on this page",
    danger: true,
  });
  if (leave) {
    dirty = null;
    location.hash = target;
  }
}

window.addEventListener("beforeunload", (e) => {
  if (dirty && dirty()) {
    e.preventDefault();
    e.returnValue = "";
  }
});

// ---- sign in ---------------------------------------------------------------------------

interface SignInOptions {
  ended?: boolean;
  signedOut?: boolean;
  error?: unknown;
}

function signedOutShell(): void {
  window.clearTimeout(idleTimer);
  session = null;
  useSession(null);
  dirty = null;
  generation++;
  header();
  nav.hidden = true;
  menuBtn.hidden = true;
  setMenu(false);
  document.body.classList.add("signed-out");
  document.title = `Sign in · ${PRODUCT}`;
}

function signIn(opts: SignInOptions = {}): void {
  signedOutShell();
  const login = textInput({ id: "login", name: "username", autocomplete: "username", autocapitalize: "none", maxlength: 256, required: true });
  const password = h("input", { type: "password", class: "input", id: "password", name: "password", autocomplete: "current-password", maxlength: 512, required: true }) as HTMLInputElement;
  const go = h("button", { type: "submit", class: "btn btn-primary btn-wide", id: "sign-in" }, "Continue") as HTMLButtonElement;
  const err = h("div", { class: "form-error", id: "sign-in-error", "aria-live": "assertive" });
  const supported = passkeysSupported();
  const notice = opts.ended
    ? alert("warn", "Your session ended", "For safety, the console signs you out after 15 minutes without activity. Sign in again to carry on.")
    : opts.signedOut
      ? alert("ok", "You signed out")
      : null;
  if (opts.error) fill(err, errorBox(opts.error));
  if (!supported) {
    fill(err, alert("error", "This browser can't use passkeys", "The console asks for a passkey after the password. Open it in a current Chrome, Edge, Firefox or Safari, over https."));
    go.disabled = true;
  }
  const form = h(
    "form",
    { class: "signin-form", novalidate: true },
    h("div", { class: "signin-field" }, h("label", { class: "form-label", for: "login" }, "Username"), login),
    h("div", { class: "signin-field" }, h("label", { class: "form-label", for: "password" }, "Password"), password),
    err,
    go,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    fill(err);
    const l = login.value.trim();
    if (!l || !password.value) {
      fill(err, alert("error", !l ? "Enter your username." : "Enter your password."));
      (!l ? login : password).focus();
      return;
    }
    void busy(
      go,
      async () => {
        let req: PasskeyRequest;
        try {
          req = await call<PasskeyRequest>("POST", "/v1/admin/sign-in", { login: l, password: password.value } satisfies ConsoleSignInRequest, { signIn: true });
        } catch (e) {
          fill(err, errorBox(e));
          password.focus();
          return;
        }
        // The password is not kept, even in the field, once it has been sent.
        password.value = "";
        passkeyStep(l, req);
      },
      "Checking…",
    );
  });
  setState("sign-in");
  fill(
    main,
    h(
      "div",
      { class: "signin" },
      h(
        "section",
        { class: "signin-card", "aria-labelledby": "signin-title" },
        h("h1", { id: "signin-title", tabindex: -1 }, "Sign in"),
        h("p", { class: "signin-lead" }, "Sign in with your directory account, then confirm with your passkey."),
        notice,
        form,
      ),
      h("p", { class: "signin-foot" }, "Only members of the console's groups can sign in. Everything you do here is in the audit log."),
    ),
  );
  login.focus();
}

/** The second step: the browser's passkey prompt, and a way to try again if it fails. */
function passkeyStep(login: string, req: PasskeyRequest): void {
  setState("passkey");
  const status = h("div", { class: "passkey-status", "aria-live": "polite" });
  const again = btn("Try the passkey again", { id: "passkey-retry" }, "primary");
  const restart = btn("Start over", { id: "sign-in-restart" });
  const actions = h("div", { class: "form-actions" }, restart, again);
  actions.hidden = true;
  // Starting over closes this attempt at the server, which answers as it does for every
  // failed sign-in (a wrong password, a login without a passkey or a console role, or a
  // cancelled prompt all look alike): its answer is shown above the form.
  restart.addEventListener("click", () =>
    void busy(restart, async () => {
      try {
        const s = await call<ConsoleSession>("POST", "/v1/admin/sign-in/passkey", { credential: null } satisfies ConsolePasskeyAnswer, { signIn: true });
        signedIn(s);
      } catch (e) {
        signIn({ error: e });
      }
    }),
  );
  const attempt = async () => {
    actions.hidden = true;
    fill(status, h("p", { class: "passkey-wait" }, h("span", { class: "spin", "aria-hidden": "true" }), "Waiting for your passkey…"));
    let credential: unknown;
    try {
      credential = await getAssertion(req.options);
    } catch (e) {
      fill(status, alert("error", "The passkey wasn't used", passkeyProblem(e), h("p", { class: "alert-text" }, "If the username or password was wrong, no passkey can answer: start over.")));
      actions.hidden = false;
      again.focus();
      return;
    }
    try {
      const s = await call<ConsoleSession>("POST", "/v1/admin/sign-in/passkey", { credential } satisfies ConsolePasskeyAnswer, { signIn: true });
      signedIn(s);
    } catch (e) {
      // The request was used up: back to the password.
      signIn({ error: e });
    }
  };
  again.addEventListener("click", () => void attempt());
  fill(
    main,
    h(
      "div",
      { class: "signin" },
      h(
        "section",
        { class: "signin-card", "aria-labelledby": "signin-title" },
        h("h1", { id: "signin-title", tabindex: -1 }, "Confirm with your passkey"),
        h("p", { class: "signin-lead" }, "Signing in as ", h("strong", {}, login), ". Your browser asks for your passkey: use your fingerprint, face, screen lock or security key."),
        status,
        actions,
      ),
    ),
  );
  void attempt();
}

function passkeyProblem(e: unknown): string {
  const name = e instanceof DOMException || e instanceof Error ? e.name : "";
  switch (name) {
    case "NotAllowedError":
    case "AbortError":
      return "It was cancelled or timed out, or this device has no passkey for your account. Try again, or use the device that holds your passkey.";
    case "SecurityError":
      return "Passkeys don't work at this address. Open the console at its usual https address.";
    case "NotSupportedError":
      return "This browser can't use passkeys. Use a current Chrome, Edge, Firefox or Safari.";
    default:
      return "The passkey couldn't be used on this device. Try again.";
  }
}

function signedIn(s: ConsoleSession): void {
  adopt(s);
  document.body.classList.remove("signed-out");
  header();
  nav.hidden = false;
  menuBtn.hidden = false;
  route();
}

// ---- reauth ----------------------------------------------------------------------------

/**
 * A policy change wants the passkey checked within 5 minutes: a dialog asks for it (the
 * button's tap starts the browser's prompt, which some browsers insist on), then the
 * session is renewed.
 */
function reauth(): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = nextId("dlg");
    const status = h("div", { class: "dialog-text", "aria-live": "polite" });
    const use = btn("Use passkey", { id: "reauth-go" }, "primary");
    const cancel = btn("Cancel", { id: "reauth-cancel" });
    const dlg = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId, id: "reauth" },
      h("h2", { class: "dialog-title", id: titleId }, "Confirm it's you"),
      h("p", { class: "dialog-text" }, "Changing the policy needs your passkey again: it was last used more than 5 minutes ago."),
      status,
      h("div", { class: "dialog-actions" }, cancel, use),
    ) as HTMLDialogElement;
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      dlg.close();
      dlg.remove();
      resolve(ok);
    };
    // The request is asked for as the dialog opens, so the button's tap goes straight to
    // the browser's prompt. An ended session closes the dialog (the sign-in is showing).
    const ask = () => {
      const p = post<PasskeyRequest>("/v1/admin/reauth/start");
      p.catch((e: unknown) => {
        if (e instanceof SessionEnded) done(false);
      });
      return p;
    };
    let options = ask();
    use.addEventListener("click", () =>
      void busy(use, async () => {
        fill(status);
        try {
          const req = await options;
          const credential = await getAssertion(req.options);
          // A passkey not accepted is a 401 too: said here, not taken for an ended session.
          const s = await call<ConsoleSession>("POST", "/v1/admin/reauth/finish", { credential } satisfies ConsolePasskeyAnswer, { own401: true });
          adopt(s);
          header();
          done(true);
        } catch (e) {
          if (e instanceof SessionEnded) {
            done(false);
            return;
          }
          const isBrowser = !(e && typeof e === "object" && "body" in e);
          fill(status, isBrowser ? alert("error", "The passkey wasn't used", passkeyProblem(e)) : errorBox(e));
          options = ask();
        }
      }),
    );
    cancel.addEventListener("click", () => done(false));
    dlg.addEventListener("close", () => done(false));
    document.body.appendChild(dlg);
    dlg.showModal();
    use.focus();
  });
}

// ---- start -----------------------------------------------------------------------------

setState("loading");
fill(main, h("div", { class: "state state-loading", role: "status" }, h("span", { class: "spin", "aria-hidden": "true" }), "Loading…"));
call<ConsoleSession>("GET", "/v1/admin/session").then(
  (s) => signedIn(s),
  (e: unknown) => {
    const body = errorBody(e);
    // 401 is the ordinary "not signed in"; anything else is worth a word.
    signIn(body.code === "unauthorized" || e instanceof SessionEnded ? {} : { error: e });
  },
);
