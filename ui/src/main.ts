// The kiosk UI: one state object, one screen at a time, all words from i18n.
import type { App, Screen } from "./app";
import type { ErrorBody } from "../../shared/wire";
import { applyAccent } from "./branding";
import { followSystem, resetModes } from "./display";
import { mount, h } from "./dom";
import { setLocale, t } from "./i18n";
import { watchIdle } from "./idle";
import { api, asError } from "./ipc";
import { announce } from "./live";
import { approve, approveChoice, endApproval, isPhoneScreen, phonePassword, waitingForPhone } from "./screens/approve";
import { done } from "./screens/done";
import { help } from "./screens/help";
import { identify } from "./screens/identify";
import { password } from "./screens/password";
import { questions } from "./screens/questions";
import { start } from "./screens/start";
import { unlock } from "./screens/unlock";
import { code, verify } from "./screens/verify";

const root = document.getElementById("app")!;

// Errors a person can fix where they are; everything else goes to the help screen.
const INLINE: Partial<Record<ErrorBody["code"], (e: ErrorBody) => string>> = {
  code_invalid: () => t(app.screen.name === "questions" ? "error.answers_invalid" : "error.code_invalid"),
  code_expired: () => t("error.code_expired"),
  throttled: (e) => t("error.throttled", { secs: e.retry_after_secs ?? 30 }),
  bad_request: () => t(app.screen.name === "questions" ? "error.answers_bad" : "error.bad_request"),
  method_unavailable: () => t("error.bad_request"),
  delivery_failed: () => t("error.delivery_failed"),
};

/**
 * Empties every field on the page: what was typed (a code, a password, an answer) goes
 * with the screen it was typed on, and goes before the kiosk wipes itself.
 */
function forgetTyped(): void {
  for (const input of root.querySelectorAll("input")) input.value = "";
}

const app: App = {
  status: null,
  loginScreen: false,
  intent: "reset",
  login: "",
  flow: null,
  challenge: null,
  notice: null,
  screen: { name: "start" },
  go(screen: Screen) {
    // Any screen but the phone's own ends a running approval: the kiosk stops listening.
    if (!isPhoneScreen(screen.name)) void endApproval();
    // The same screen drawn again (the approval number arrived, new settings) leaves the
    // focus where the person put it; with a notice, the screen's field takes it to retry.
    const keep = screen.name === app.screen.name && !app.notice ? document.activeElement?.id : undefined;
    forgetTyped();
    app.screen = screen;
    render(keep);
    if (app.notice) announce(app.notice, true);
    app.notice = null;
  },
  fail(e: ErrorBody) {
    const inline = INLINE[e.code];
    if (inline && app.screen.name !== "start" && app.screen.name !== "help") {
      app.notice = inline(e);
      app.go(app.screen);
      return;
    }
    if (e.code === "step_not_allowed" || e.code === "not_found") {
      app.restart();
      return;
    }
    app.flow = null;
    app.challenge = null;
    app.go({ name: "help", error: e });
  },
  async busy(work, handle) {
    const enabled = [...root.querySelectorAll<HTMLButtonElement>("button:not(:disabled)")];
    for (const b of enabled) b.disabled = true;
    root.setAttribute("aria-busy", "true");
    let failure: ErrorBody | null = null;
    let result;
    try {
      result = await work();
    } catch (e) {
      failure = asError(e);
    } finally {
      root.removeAttribute("aria-busy");
      // Buttons of a screen that is still showing come back; a new screen has its own.
      for (const b of enabled) if (b.isConnected) b.disabled = false;
    }
    if (failure) {
      if (!handle?.(failure)) app.fail(failure);
      return undefined;
    }
    return result;
  },
  restart() {
    // From the login screen, Cancel and Finish go back to the greeter.
    if (app.loginScreen) {
      void wipe();
      return;
    }
    app.flow = null;
    app.challenge = null;
    app.login = "";
    app.notice = null;
    void api.cancel().catch(() => undefined);
    if (app.status) setLocale(app.status.default_locale);
    // The next person starts as the kiosk does: its language, its contrast and text size.
    resetModes();
    app.go({ name: "start" });
  },
};

function render(keepFocus?: string): void {
  const s = app.screen;
  const el = (() => {
    switch (s.name) {
      case "start":
        return start(app);
      case "identify":
        return identify(app);
      case "verify":
        return verify(app);
      case "code":
        return code(app, s.called);
      case "questions":
        return questions(app);
      case "approve-choice":
        return approveChoice(app, s.methodId);
      case "approve":
        return approve(app);
      case "phone-password":
        return phonePassword(app);
      case "password":
        return password(app);
      case "unlock":
        return unlock(app);
      case "done":
        return done(app, s.done);
      case "help":
        return help(app, s.error);
    }
  })();
  document.title = t("app.title");
  root.dataset.screen = s.name;
  mount(root, el);
  if (keepFocus) root.querySelector<HTMLElement>(`#${CSS.escape(keepFocus)}`)?.focus({ preventScroll: true });
}

function applyBranding(): void {
  const accent = app.status?.settings.accent_color;
  if (accent) applyAccent(accent);
}

/** Forgets everything: the flow on the server, the webview's storage, this page's state. */
async function wipe(): Promise<void> {
  forgetTyped();
  try {
    await endApproval();
    if (app.loginScreen) {
      // The process ends: nothing of the person outlives it.
      await api.leave();
      return;
    }
    await api.wipe();
  } finally {
    if (!app.loginScreen) location.reload();
  }
}

/**
 * While the start screen waits for someone, asks the server again now and then: a kiosk
 * revoked meanwhile says so before anyone tries it, changed branding is taken up, and the
 * server sees the kiosk alive. A server that doesn't answer just now changes nothing: the
 * next person's first step says so if it lasts.
 */
function refreshWhileIdle(secs: number): void {
  if (!(secs > 0)) return;
  window.setInterval(async () => {
    if (app.screen.name !== "start") return;
    try {
      const status = await api.status();
      if (app.screen.name !== "start") return;
      const changed = JSON.stringify(status.settings) !== JSON.stringify(app.status?.settings);
      app.status = status;
      if (changed) {
        applyBranding();
        app.go({ name: "start" });
      }
    } catch (e) {
      const error = asError(e);
      if (error.code === "kiosk_revoked" && app.screen.name === "start") app.go({ name: "help", error });
    }
  }, secs * 1000);
}

/** How soon a kiosk that couldn't reach the server at start tries again by itself. */
const BOOT_RETRY_MS = 10_000;

async function boot(): Promise<void> {
  // No context menu, no text drag-out: this is a kiosk.
  window.addEventListener("contextmenu", (e) => e.preventDefault());
  window.addEventListener("dragstart", (e) => e.preventDefault());
  followSystem();
  root.replaceChildren(h("div", { class: "boot" }, h("div", { class: "spinner", "aria-label": "…" })));
  try {
    app.loginScreen = (await api.mode()).login_screen;
    document.documentElement.dataset.loginScreen = String(app.loginScreen);
  } catch {
    app.loginScreen = false;
  }
  try {
    app.status = await api.status();
    setLocale(app.status.default_locale || app.status.settings.default_locale);
    applyBranding();
    app.go({ name: "start" });
    refreshWhileIdle(app.status.status_refresh_secs);
  } catch (e) {
    setLocale(navigator.language);
    const error = asError(e);
    app.go({ name: "help", error });
    // Started before the network or the server (a kiosk PC powering on): start over by
    // itself a little later, as long as nobody has begun anything.
    // On the login screen, the person goes back to the greeter by itself instead: they
    // can sign in there, or try again later.
    if (error.code === "unreachable") {
      window.setTimeout(() => {
        if (app.screen.name === "help" && app.flow === null && app.login === "") {
          if (app.loginScreen) void wipe();
          else location.reload();
        }
      }, BOOT_RETRY_MS);
    }
  }
  watchIdle(
    () => app.status?.idle_timeout_secs ?? 90,
    () =>
      // The login screen's kiosk has no "waiting for someone": idle, it goes back to the greeter.
      (!app.loginScreen && app.screen.name === "start") ||
      (!app.loginScreen && app.screen.name === "help" && app.flow === null && app.login === "") ||
      // The person works on their phone meanwhile: not idle until the approval's (or flow's) own expiry.
      waitingForPhone(),
    () => void wipe(),
  );
}

void boot();
