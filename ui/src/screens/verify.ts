import type { App } from "../app";
import type { MethodKind, MethodView } from "../../../shared/wire";
import { h } from "../dom";
import { t } from "../i18n";
import { api } from "../ipc";
import { keyboard } from "../keyboard";
import { icon } from "../icons";
import { chooseApproval } from "./approve";
import { frame } from "./chrome";
import { afterVerified, step } from "./progress";

function methodLabel(m: MethodView): string {
  if (m.kind === "approval") return t("verify.method.approval");
  if (m.kind === "sms") return t("verify.method.sms", { masked: m.masked });
  if (m.kind === "voice") return t("verify.method.voice", { masked: m.masked });
  return m.kind === "email" ? t("verify.method.email", { masked: m.masked }) : t("verify.method.totp");
}

function methodIcon(kind: MethodKind): SVGSVGElement {
  if (kind === "approval") return icon("phone");
  if (kind === "sms") return icon("message");
  if (kind === "voice") return icon("call");
  return icon(kind === "email" ? "mail" : "clock");
}

/** Methods whose code the server sends (and may send again). */
function sent(kind: MethodKind): boolean {
  return kind === "email" || kind === "sms" || kind === "voice";
}

async function choose(app: App, m: MethodView): Promise<void> {
  if (m.kind === "approval") return chooseApproval(app, m);
  const ch = await app.busy(() => api.requestCode(m.id));
  if (!ch) return;
  app.challenge = ch;
  app.go({ name: "code" });
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

export function code(app: App): HTMLElement {
  const flow = app.flow!;
  const ch = app.challenge!;
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
      app.go({ name: "code" });
      return;
    }
    const next = await app.busy(() => api.verifyCode(ch.challenge_id, value));
    if (next) afterVerified(app, next);
  };

  const hint =
    sent(ch.kind)
      ? t(ch.kind === "sms" ? "verify.textedTo" : ch.kind === "voice" ? "verify.callingTo" : "verify.sentTo", {
          length: ch.code_length,
          to: ch.sent_to ?? "",
        }) +
        " " +
        t("verify.expiresIn", { mins: Math.ceil(ch.expires_in_secs / 60) })
      : t("verify.totp", { length: ch.code_length });

  const extra = h("div", { class: "actions actions-left" });
  if (sent(ch.kind)) {
    const resend = h("button", { type: "button", class: "btn btn-quiet", id: "resend" }, t("verify.resend")) as HTMLButtonElement;
    const until = Date.now() + ch.resend_after_secs * 1000;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      resend.disabled = left > 0;
      resend.textContent = left > 0 ? t("verify.resendIn", { secs: left }) : t("verify.resend");
      if (left > 0 && resend.isConnected) window.setTimeout(tick, 500);
    };
    tick();
    resend.addEventListener("click", () => {
      const m = flow.methods.find((x) => x.id === ch.method_id);
      if (m) void choose(app, m);
    });
    extra.append(resend);
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
          h("p", { class: "lead", id: "code-hint" }, hint),
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
