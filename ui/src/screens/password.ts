import type { App } from "../app";
import type { PasswordReason, PasswordRules } from "../../../shared/wire";
import { h } from "../dom";
import { t } from "../i18n";
import { api } from "../ipc";
import { keyboard } from "../keyboard";
import { announce } from "../live";
import { frame } from "./chrome";
import { doneScreen } from "./done";

export function reasonText(r: PasswordReason, rules: PasswordRules): string {
  switch (r.code) {
    case "too_short":
      return t("reason.too_short", { min: rules.min_length });
    case "too_long":
      return t("reason.too_long", { max: rules.max_length });
    case "banned":
      return t("reason.banned");
    case "contains_name":
      return t("reason.contains_name");
    case "invalid_characters":
      return t("reason.invalid_characters");
    case "needs_variety":
      return t("reason.needs_variety", { n: Math.max(rules.categories, 3) });
    case "used_before":
      return rules.history > 0 ? t("reason.used_before_n", { n: rules.history }) : t("reason.used_before");
    default:
      // The directory's own words.
      return r.message;
  }
}

const DEBOUNCE_MS = 350;

export function password(app: App): HTMLElement {
  const rules = app.flow!.password_rules;
  let focused: HTMLInputElement;
  const field = (id: string, label: string) => {
    const input = h("input", {
      id,
      type: "password",
      autocomplete: "new-password",
      autocapitalize: "none",
      spellcheck: "false",
      maxlength: rules.max_length + 16,
      class: "field",
    }) as HTMLInputElement;
    input.addEventListener("focus", () => (focused = input));
    return { input, label: h("label", { for: id, class: "label" }, label) };
  };
  const first = field("new-password", t("password.new"));
  const second = field("confirm-password", t("password.confirm"));
  first.input.setAttribute("autofocus", "");
  first.input.setAttribute("aria-describedby", "reasons");
  focused = first.input;

  // Not a live region itself: it is redrawn at every key. What it says is read out once
  // when it changes (see `render`).
  const reasons = h("ul", { id: "reasons", class: "reasons" });
  const submitBtn = h("button", { type: "submit", class: "btn btn-primary", id: "password-submit", disabled: true }, t("password.submit")) as HTMLButtonElement;
  // What the server said of the first field, and whether it is current.
  let serverOk = false;
  let serverReasons: string[] = [];
  let seq = 0;
  let timer = 0;
  // What a screen reader was last told of the password; nothing new while it holds.
  let said = "";

  const render = () => {
    const a = first.input.value;
    const b = second.input.value;
    const items = serverReasons.map((text) => ({ ok: false, text }));
    if (serverOk && a) items.push({ ok: true, text: t("password.ok") });
    if (b && a !== b) items.push({ ok: false, text: t("password.mismatch") });
    reasons.replaceChildren(
      ...items.map((i) => h("li", { class: i.ok ? "reason-ok" : "reason-bad" }, (i.ok ? "✓ " : "✗ ") + i.text)),
    );
    submitBtn.disabled = !(serverOk && a && a === b);
    // While a key's check is under way the list is empty: not a change worth saying.
    const now = items.map((i) => i.text).join(" ");
    if (now && now !== said) {
      said = now;
      announce(now);
    }
  };
  const check = () => {
    const candidate = first.input.value;
    const mine = ++seq;
    if (!candidate) {
      serverReasons = [];
      render();
      return;
    }
    void api
      .checkPassword(candidate)
      .then((res) => {
        if (mine !== seq) return;
        serverOk = res.acceptable;
        serverReasons = res.reasons.map((r) => reasonText(r, rules));
        render();
      })
      .catch((e) => {
        if (mine === seq) app.fail(e);
      });
  };
  first.input.addEventListener("input", () => {
    window.clearTimeout(timer);
    serverOk = false;
    render();
    timer = window.setTimeout(check, DEBOUNCE_MS);
  });
  second.input.addEventListener("input", render);

  const toggle = h("button", { type: "button", class: "btn btn-quiet btn-small", "aria-pressed": "false", id: "toggle-visibility" }, t("password.show"));
  toggle.addEventListener("click", () => {
    const visible = first.input.type === "password";
    for (const i of [first.input, second.input]) i.type = visible ? "text" : "password";
    toggle.textContent = visible ? t("password.hide") : t("password.show");
    toggle.setAttribute("aria-pressed", String(visible));
  });

  const submit = async () => {
    if (submitBtn.disabled) return;
    const done = await app.busy(
      () => api.setPassword(first.input.value),
      (e) => {
        if (e.code === "partially_written") {
          // Some linked directories hold the new password, some don't: say which, and let
          // the same password be sent again to finish the rest.
          serverReasons = [];
          render();
          // Room for the per-directory list, with the keyboard still in view.
          tip.hidden = true;
          reasons.replaceChildren(
            h("li", { class: "reason-bad" }, t("password.partial")),
            ...(e.directories ?? []).map((d) =>
              h(
                "li",
                { class: d.ok ? "reason-ok" : "reason-bad" },
                (d.ok ? "✓ " : "✗ ") + t(d.ok ? "password.partial.ok" : "password.partial.failed", { directory: d.directory }),
              ),
            ),
          );
          submitBtn.textContent = t("password.retry");
          announce([...reasons.querySelectorAll("li")].map((li) => (li.textContent ?? "").slice(2)).join(" "), true);
          return true;
        }
        if (e.code !== "password_rejected") return false;
        serverOk = false;
        serverReasons = (e.reasons ?? []).map((r) => reasonText(r, rules));
        render();
        return true;
      },
    );
    if (done) doneScreen(app, done);
  };

  const tip = h("p", { class: "tip" }, t("password.rule.tip"));
  const ruleList = h(
    "ul",
    { class: "rules" },
    h("li", {}, t("password.rule.length", { min: rules.min_length, max: rules.max_length })),
    rules.no_names ? h("li", {}, t("password.rule.names")) : null,
    rules.banned_list ? h("li", {}, t("password.rule.banned")) : null,
    rules.categories > 0 ? h("li", {}, t("password.rule.categories", { n: rules.categories })) : null,
    rules.history > 0 ? h("li", {}, t("password.rule.history", { n: rules.history })) : null,
  );
  return frame(
    app,
    h(
      "form",
      {
        class: "card card-wide",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void submit();
        },
      },
      h("h1", { tabindex: -1 }, t("password.heading")),
      h(
        "div",
        { class: "two-col" },
        h(
          "div",
          { class: "rules-box" },
          h("p", { class: "label" }, t("password.rules")),
          ruleList,
          tip,
          reasons,
        ),
        h(
          "div",
          {},
          h("div", { class: "label-row" }, first.label, toggle),
          first.input,
          second.label,
          second.input,
          h("div", { class: "actions" }, submitBtn),
        ),
      ),
      keyboard(() => focused, "text", () => void submit()),
    ),
    { cancel: true },
  );
}
