// Approval on the phone: the kiosk shows a QR code, the phone opens it, the kiosk shows a
// number to type there, and the phone approves with its passkey. What the phone does comes
// as "flow-event"s while "approve" (or "Finish on your phone") shows; any other screen ends it.
import type { UnlistenFn } from "@tauri-apps/api/event";
import type { App, Screen } from "../app";
import type { FlowEvent, MethodView } from "../../../shared/wire";
import { h } from "../dom";
import { t } from "../i18n";
import { icon } from "../icons";
import { api, asError } from "../ipc";
import { announce } from "../live";
import { qrCanvas } from "../qr";
import { frame } from "./chrome";
import { doneScreen } from "./done";
import { afterVerified, step } from "./progress";

const QR_PIXELS = 320;
/** Once the number shows, the phone may be mid-way at expiry: wait this long for its verdict. */
const GRACE_SECS = 15;
/** Seconds left at which a screen reader is told, politely and once each, before the phone opened the page. */
const SAY_LEFT_AT = [60, 30];

/** The approval the kiosk is waiting on. */
type Waiting = {
  /** Null until start_approval answers; events before that wait in `early`. */
  challengeId: string | null;
  early: FlowEvent[];
  unlisten: UnlistenFn | null;
  /** When the kiosk stops waiting for the phone (ms): the approval's expiry, then the flow's. */
  until: number;
  /** The number to type on the phone, once the phone opened the page. */
  number: string | null;
  timer: number;
  /** The marks of SAY_LEFT_AT already said (or above the approval's whole lifetime). */
  said: Set<number>;
};

let waiting: Waiting | null = null;

/** The screens that wait for the phone; showing any other ends the approval. */
export function isPhoneScreen(name: Screen["name"]): boolean {
  return name === "approve" || name === "phone-password";
}

/** The person is busy on the phone, and the approval (or the flow) has not expired yet. */
export function waitingForPhone(): boolean {
  return waiting !== null && waiting.challengeId !== null && Date.now() < waiting.until;
}

function release(w: Waiting): void {
  const unlisten = w.unlisten;
  w.unlisten = null;
  unlisten?.();
}

/** Stops listening, and has the kiosk stop following the approval. Safe to call twice. */
export async function endApproval(): Promise<void> {
  const w = waiting;
  if (!w) return;
  waiting = null;
  window.clearInterval(w.timer);
  release(w);
  await api.stopApproval().catch(() => undefined);
}

/** Where the new password is typed after this approval: on the phone, or ask the person. */
function finishOnPhone(app: App): boolean | "ask" {
  const flow = app.flow!;
  const policy = app.status?.settings.password_on_phone ?? "off";
  const last = flow.done + 1 >= flow.required;
  if (app.intent !== "reset" || !last || policy === "off") return false;
  return policy === "always" ? true : "ask";
}

export async function chooseApproval(app: App, m: MethodView): Promise<void> {
  const where = finishOnPhone(app);
  if (where === "ask") {
    app.go({ name: "approve-choice", methodId: m.id });
    return;
  }
  await begin(app, m.id, where);
}

async function begin(app: App, methodId: string, onPhone: boolean): Promise<void> {
  const w: Waiting = { challengeId: null, early: [], unlisten: null, until: 0, number: null, timer: 0, said: new Set() };
  waiting = w;
  // Listen first, so nothing the phone does is missed.
  const ch = await app.busy(async () => {
    w.unlisten = await api.onFlowEvent((e) => onEvent(app, w, e));
    return api.startApproval(methodId, onPhone);
  });
  if (!ch || waiting !== w) {
    // It failed (app.fail said why and left the screen) or the person left meanwhile.
    if (waiting === w) void endApproval();
    else release(w);
    return;
  }
  w.challengeId = ch.challenge_id;
  w.until = Date.now() + ch.expires_in_secs * 1000;
  w.said = new Set(SAY_LEFT_AT.filter((at) => at >= ch.expires_in_secs));
  w.timer = window.setInterval(() => tick(app, w), 250);
  app.challenge = ch;
  app.go({ name: "approve" });
  for (const e of w.early.splice(0)) onEvent(app, w, e);
}

function clock(secs: number): string {
  const s = Math.max(0, secs);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function tick(app: App, w: Waiting): void {
  if (waiting !== w || app.screen.name !== "approve") return;
  const left = Math.ceil((w.until - Date.now()) / 1000);
  if (left <= (w.number ? -GRACE_SECS : 0)) {
    // No word from the phone in time: this code is over.
    void endApproval();
    app.notice = t("approve.expired");
    app.go({ name: "verify" });
    return;
  }
  const countdown = document.getElementById("approve-countdown");
  if (countdown) countdown.textContent = t("approve.validFor", { time: clock(left) });
  // The countdown itself is not a live region (it changes every second); its end coming is
  // said, while the person may still be getting the phone out.
  const due = SAY_LEFT_AT.filter((at) => left <= at && !w.said.has(at));
  if (!w.number && left > 0 && due.length > 0) {
    for (const at of due) w.said.add(at);
    announce(t("approve.secsLeft", { secs: left }));
  }
}

function onEvent(app: App, w: Waiting, e: FlowEvent): void {
  if (waiting !== w) return;
  if (w.challengeId === null) {
    w.early.push(e);
    return;
  }
  // An earlier approval of this flow is not this one.
  if ("challenge_id" in e && e.challenge_id !== w.challengeId) return;
  switch (e.type) {
    case "scanned":
      if (w.number === e.number) return;
      w.number = e.number;
      if (app.screen.name === "approve") {
        app.go({ name: "approve" });
        announce(`${t("approve.number")}: ${e.number}`);
      }
      return;
    case "approved":
      // The next screen is not the phone's, so showing it ends the approval (main.ts).
      afterVerified(app, e.flow);
      return;
    case "finish_on_phone":
      window.clearInterval(w.timer);
      w.until = Date.now() + e.flow.expires_in_secs * 1000;
      app.flow = e.flow;
      app.challenge = null;
      app.go({ name: "phone-password" });
      return;
    case "completed":
      doneScreen(app, e.done);
      return;
    case "failed":
      if (e.reason === "blocked") {
        app.fail({ code: "blocked", message: e.message, reference: app.flow?.reference });
        return;
      }
      app.notice = e.message;
      app.go({ name: "verify" });
      return;
  }
}

function otherMethod(app: App): HTMLElement {
  return h(
    "div",
    { class: "actions actions-left" },
    h("button", { type: "button", class: "btn btn-quiet", id: "approve-other", onclick: () => app.go({ name: "verify" }) }, t("approve.other")),
  );
}

export function approveChoice(app: App, methodId: string): HTMLElement {
  const flow = app.flow!;
  const choice = (where: "kiosk" | "phone", glyph: SVGSVGElement, title: string, hint: string) =>
    h(
      "button",
      {
        type: "button",
        class: `choice choice-${where}`,
        "data-choice": where,
        onclick: () => void begin(app, methodId, where === "phone"),
      },
      h("span", { class: "choice-icon", "aria-hidden": "true" }, glyph),
      h("span", { class: "choice-title" }, title),
      h("span", { class: "choice-hint" }, hint),
    );
  return frame(
    app,
    h(
      "section",
      { class: "card card-wide", id: "approve-choice" },
      step(flow),
      h("h1", { tabindex: -1 }, t("approve.choice.heading")),
      h(
        "div",
        { class: "choices approve-choices" },
        choice("kiosk", icon("kiosk"), t("approve.choice.kiosk"), t("approve.choice.kiosk.hint")),
        choice("phone", icon("phone"), t("approve.choice.phone"), t("approve.choice.phone.hint")),
      ),
      otherMethod(app),
    ),
    { cancel: true },
  );
}

export function approve(app: App): HTMLElement {
  const flow = app.flow!;
  const ch = app.challenge!;
  const w = waiting;
  const number = w?.number ?? null;
  const now = number ? 2 : 1;
  const item = (n: number, text: string) =>
    h("li", { class: n < now ? "approve-step-done" : n === now ? "approve-step-now" : undefined }, text);

  let side: HTMLElement;
  if (number) {
    side = h(
      "div",
      { class: "approve-side" },
      h("p", { class: "approval-number" }, number),
      h("p", { class: "approve-number-hint" }, t("approve.number")),
    );
  } else {
    const slot = h("div", { class: "qr-slot approve-qr" }, h("div", { class: "spinner", "aria-hidden": "true" }));
    void qrCanvas(ch.approval_url ?? "", t("approve.qr"), QR_PIXELS)
      .then((c) => slot.replaceChildren(c))
      .catch((e) => {
        if (slot.isConnected) app.fail(asError(e));
      });
    const left = w ? Math.ceil((w.until - Date.now()) / 1000) : ch.expires_in_secs;
    side = h(
      "div",
      { class: "approve-side" },
      slot,
      h("p", { class: "muted approve-countdown", id: "approve-countdown", "aria-live": "off" }, t("approve.validFor", { time: clock(left) })),
    );
  }

  return frame(
    app,
    h(
      "section",
      { class: "card card-wide", id: "approve" },
      step(flow),
      h("h1", { tabindex: -1 }, t("approve.heading")),
      h(
        "div",
        { class: "approve-layout" },
        h(
          "div",
          {},
          h(
            "ol",
            { class: "approve-steps" },
            item(1, t("approve.step.scan")),
            item(2, t("approve.step.number")),
            item(3, t("approve.step.passkey")),
          ),
          ch.finish_on_phone ? h("p", { class: "muted" }, t("approve.thenPassword")) : null,
          otherMethod(app),
        ),
        side,
      ),
    ),
    { cancel: true },
  );
}

export function phonePassword(app: App): HTMLElement {
  return frame(
    app,
    h(
      "section",
      { class: "card card-center", id: "phone-password" },
      h("div", { class: "big-icon big-icon-phone", "aria-hidden": "true" }, icon("phone")),
      h("h1", { tabindex: -1 }, t("phone.heading")),
      h("p", { class: "lead" }, t("phone.lead")),
      h("div", { class: "spinner spinner-inline", "aria-hidden": "true" }),
    ),
    { cancel: true },
  );
}
