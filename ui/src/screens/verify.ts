import type { App } from "../app";
import type { Delivery, MethodKind, MethodView } from "../../../shared/wire";
import { h } from "../dom";
import { t, type Key } from "../i18n";
import { api, asError } from "../ipc";
import { keyboard } from "../keyboard";
import { announce } from "../live";
import { icon } from "../icons";
import { chooseApproval } from "./approve";
import { frame } from "./chrome";
import { afterVerified, step } from "./progress";

function methodLabel(m: MethodView): string {
  if (m.kind === "approval") return t("verify.method.approval");
  if (m.kind === "sms") return t("verify.method.sms", { masked: m.masked });
  if (m.kind === "voice") return t("verify.method.voice", { masked: m.masked });
  if (m.kind === "questions") return t("verify.method.questions");
  return m.kind === "email" ? t("verify.method.email", { masked: m.masked }) : t("verify.method.totp");
}

function methodIcon(kind: MethodKind): SVGSVGElement {
  if (kind === "approval") return icon("phone");
  if (kind === "sms") return icon("message");
  if (kind === "voice") return icon("call");
  if (kind === "questions") return icon("question");
  return icon(kind === "email" ? "mail" : "clock");
}

/** Challenges whose sending is being followed (see `code`). */
const following = new Set<string>();
/** The last challenge whose sending was said to a screen reader (once, not at each redraw). */
let announced = "";

/** Methods whose code the server sends (and may send again). */
function sent(kind: MethodKind): boolean {
  return kind === "email" || kind === "sms" || kind === "voice";
}

/** `byCall`: a mobile number is called instead of texted (`MethodView.can_call`). */
async function choose(app: App, m: MethodView, byCall = false): Promise<void> {
  if (m.kind === "approval") return chooseApproval(app, m);
  const ch = await app.busy(() => api.requestCode(m.id, byCall));
  if (!ch) return;
  app.challenge = ch;
  app.go(m.kind === "questions" ? { name: "questions" } : { name: "code", called: byCall });
}

export function verify(app: App): HTMLElement {
  const flow = app.flow!;
  const list = h("div", { class: "methods" });
  for (const m of flow.methods) {
    list.append(
      h(
        "button",
        {
          type: "button",
          class: `method${m.done ? " method-done" : ""}`,
          disabled: m.done,
          "data-method": m.kind,
          onclick: () => void choose(app, m),
        },
        h("span", { class: "method-icon", "aria-hidden": "true" }, methodIcon(m.kind)),
        h(
          "span",
          { class: "method-label" },
          methodLabel(m),
          m.kind === "approval" && !m.done ? h("span", { class: "method-hint" }, t("verify.method.approval.hint")) : null,
        ),
        m.done ? h("span", { class: "method-state" }, icon("check", "icon icon-small"), t("verify.method.done")) : null,
      ),
    );
  }
  return frame(
    app,
    h(
      "section",
      { class: "card" },
      step(flow),
      h("h1", { tabindex: -1 }, t("verify.heading")),
      h("p", { class: "lead" }, t("verify.choose")),
      list,
    ),
    { cancel: true },
  );
}

export function code(app: App, called = false): HTMLElement {
  const flow = app.flow!;
  const ch = app.challenge!;
  const method = flow.methods.find((x) => x.id === ch.method_id);
  const input = h("input", {
    id: "code",
    type: "text",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: ch.code_length,
    pattern: "[0-9]*",
    autofocus: true,
    class: "field field-code",
    "aria-describedby": "code-hint",
  }) as HTMLInputElement;
  input.addEventListener("input", () => {
    input.value = input.value.replace(/\D/g, "").slice(0, ch.code_length);
  });
  const submit = async () => {
    const value = input.value.trim();
    if (!value) {
      app.notice = t("error.enter_code");
      app.go(app.screen);
      return;
    }
    const next = await app.busy(() => api.verifyCode(ch.challenge_id, value));
    if (next) afterVerified(app, next);
  };

  // Texts and calls go out after the challenge answers: "sending" until a gateway took it.
  const hint = (sending: boolean) =>
    sent(ch.kind)
      ? t(ch.kind === "voice" || called ? "verify.callingTo" : ch.kind === "sms" ? (sending ? "verify.textingTo" : "verify.textedTo") : "verify.sentTo", {
          length: ch.code_length,
          // A masked number or address stays on one line.
          to: (ch.sent_to ?? "").replace(/ /g, "\u00a0"),
        }) +
        " " +
        t("verify.expiresIn", { mins: Math.ceil(ch.expires_in_secs / 60) })
      : t("verify.totp", { length: ch.code_length });
  const hintEl = h("p", { class: "lead", id: "code-hint" }, hint(ch.delivery === "sending"));
  if (sent(ch.kind) && announced !== ch.challenge_id) {
    announced = ch.challenge_id;
    announce(hint(ch.delivery === "sending"));
  }
  const here = () => app.screen.name === "code" && app.challenge?.challenge_id === ch.challenge_id;
  // Follows the sending while this screen shows (once, however often it is drawn): said
  // once sent; if every gateway failed, back to the methods with the reason (nothing was
  // counted against the person).
  const follow = async () => {
    following.add(ch.challenge_id);
    try {
      for (;;) {
        let delivery: Delivery | null;
        try {
          delivery = await api.codeDelivery(ch.challenge_id);
        } catch (e) {
          if (here()) app.fail(asError(e));
          return;
        }
        if (!here()) return;
        if (delivery === "failed") {
          app.challenge = null;
          app.notice = t("error.delivery_failed");
          app.go({ name: "verify" });
          return;
        }
        if (delivery !== "sending") {
          ch.delivery = delivery ?? undefined;
          const shown = document.getElementById("code-hint");
          if (shown) shown.textContent = hint(false);
          announce(hint(false));
          return;
        }
      }
    } finally {
      following.delete(ch.challenge_id);
    }
  };
  if (ch.delivery === "sending" && !following.has(ch.challenge_id)) void follow();

  const extra = h("div", { class: "actions actions-left" });
  if (sent(ch.kind) && method) {
    // A new code goes the way the last one went: texted, or called out again. The server
    // takes another only after the cooldown, whichever way it goes.
    type Again = { button: HTMLButtonElement; now: Key; later: Key; byCall: boolean };
    const again: Again[] = [
      {
        button: h("button", { type: "button", class: "btn btn-quiet", id: "resend" }) as HTMLButtonElement,
        now: called ? "verify.callAgain" : "verify.resend",
        later: called ? "verify.callAgainIn" : "verify.resendIn",
        byCall: called,
      },
    ];
    if (method.can_call && !called) {
      again.push({
        button: h("button", { type: "button", class: "btn btn-quiet", id: "call-instead" }) as HTMLButtonElement,
        now: "verify.callInstead",
        later: "verify.callInsteadIn",
        byCall: true,
      });
    }
    const until = Date.now() + ch.resend_after_secs * 1000;
    // Counts down while the screen shows (the first tick runs before it is on the page).
    const tick = (first = false) => {
      const left = Math.ceil((until - Date.now()) / 1000);
      for (const a of again) {
        a.button.disabled = left > 0;
        const words = left > 0 ? t(a.later, { secs: left }) : t(a.now);
        a.button.replaceChildren(...(a.byCall ? [icon("call", "icon icon-small"), words] : [words]));
      }
      if (left > 0 && (first || again[0].button.isConnected)) window.setTimeout(() => tick(), 500);
    };
    tick(true);
    for (const a of again) {
      a.button.addEventListener("click", () => void choose(app, method, a.byCall));
      extra.append(a.button);
    }
  }
  if (flow.methods.filter((m) => !m.done).length > 1) {
    extra.append(
      h("button", { type: "button", class: "btn btn-quiet", onclick: () => app.go({ name: "verify" }) }, t("verify.other")),
    );
  }

  return frame(
    app,
    h(
      "form",
      {
        class: "card",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void submit();
        },
      },
      step(flow),
      h("h1", { tabindex: -1 }, t("verify.heading")),
      h(
        "div",
        { class: "code-layout" },
        h(
          "div",
          {},
          hintEl,
          h("label", { for: "code", class: "label" }, t("verify.codeLabel")),
          h(
            "div",
            { class: "code-row" },
            input,
            h("button", { type: "submit", class: "btn btn-primary", id: "verify-submit" }, t("verify.submit")),
          ),
          extra,
        ),
        keyboard(() => input, "numeric", () => void submit()),
      ),
    ),
    { cancel: true },
  );
}
