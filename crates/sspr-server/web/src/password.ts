// The new-password form of the phone page: the rules first, then two fields, the server's
// reasons (in the page's language) live as the person types, and "Set password" only once
// both agree and pass.
import { ApiError, errorText } from "./common";
import { button, h, fill, input } from "./dom";
import { t } from "./i18n";
import type { DirectoryResult, DoneView, PasswordCheck, PasswordReason, PasswordRules } from "./types";

const DEBOUNCE_MS = 250;

export type PasswordIo = {
  check(candidate: string): Promise<PasswordCheck>;
  set(password: string): Promise<DoneView>;
  /** Shows a line in the page's result area (empty text clears it). */
  status(kind: "ok" | "bad" | "info" | "", text: string): void;
  busy(on: boolean): void;
  done(d: DoneView): void;
  /** The approval or flow is over: nothing more can be done here. */
  fatal(e: ApiError): void;
};

/** Errors after which the token is spent: the page can only say so. */
export function isFinal(code: string): boolean {
  return ["not_found", "code_expired", "flow_expired", "step_not_allowed", "blocked", "not_allowed", "unauthorized", "code_invalid", "method_unavailable"].indexOf(code) >= 0;
}

export function rulesList(rules: PasswordRules): HTMLElement {
  return h(
    "ul",
    { class: "rules", id: "rules" },
    h("li", {}, t("pw.rule.length", { min: rules.min_length, max: rules.max_length })),
    rules.no_names && h("li", {}, t("pw.rule.names")),
    rules.banned_list && h("li", {}, t("pw.rule.banned")),
    rules.categories > 0 && h("li", {}, t("pw.rule.categories", { n: rules.categories })),
    rules.history > 0 && h("li", {}, t("pw.rule.history", { n: rules.history })),
  );
}

/**
 * A reason in the page's language, with the numbers from the rules (as the kiosk does; a
 * reason has no numbers of its own). A directory's own refusal keeps the server's words.
 */
function reasonText(r: PasswordReason, rules: PasswordRules | undefined): string {
  switch (r.code) {
    case "too_short":
      return rules ? t("pw.reason.too_short", { min: rules.min_length }) : r.message;
    case "too_long":
      return rules ? t("pw.reason.too_long", { max: rules.max_length }) : r.message;
    case "banned":
      return t("pw.reason.banned");
    case "contains_name":
      return t("pw.reason.contains_name");
    case "invalid_characters":
      return t("pw.reason.invalid_characters");
    case "needs_variety":
      return rules ? t("pw.reason.needs_variety", { n: Math.max(rules.categories, 3) }) : r.message;
    case "used_before":
      return rules && rules.history > 0 ? t("pw.reason.used_before_n", { n: rules.history }) : t("pw.reason.used_before");
    default:
      return r.message;
  }
}

function item(ok: boolean, text: string): HTMLElement {
  return h("li", { class: ok ? "reason-ok" : "reason-bad" }, h("span", { class: "reason-mark", "aria-hidden": "true" }, ok ? "✓" : "✗"), text);
}

export function passwordForm(rules: PasswordRules | undefined, io: PasswordIo): HTMLElement {
  const field = (id: string) =>
    input({
      id,
      type: "password",
      autocomplete: "new-password",
      autocapitalize: "none",
      autocorrect: "off",
      spellcheck: "false",
      // A little over the limit, so a too-long password gets a reason, not silent truncation.
      maxlength: rules ? rules.max_length + 16 : 300,
      "aria-describedby": "reasons",
    });
  const first = field("new-password");
  first.setAttribute("data-autofocus", "");
  const second = field("confirm-password");
  const reasons = h("ul", { id: "reasons", class: "reasons", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "set-password", class: "btn btn-primary btn-block", disabled: true }, t("pw.submit")) as HTMLButtonElement;
  const toggle = button({ id: "toggle-password", class: "btn btn-quiet btn-small", "aria-pressed": "false", "aria-controls": "new-password confirm-password" }, t("pw.show"));

  // What the server said of the current first field; seq drops answers to older text.
  let serverOk = false;
  let serverReasons: string[] = [];
  let directories: DirectoryResult[] = [];
  let seq = 0;
  let timer = 0;
  let sending = false;
  // A failed check said so in the result area; the next good answer takes it back.
  let checkFailed = false;

  const render = () => {
    const a = first.value;
    const b = second.value;
    const items: HTMLElement[] = [];
    if (directories.length) {
      items.push(item(false, t("pw.partial")));
      for (const d of directories) items.push(item(d.ok, t(d.ok ? "pw.partial.ok" : "pw.partial.failed", { directory: d.directory })));
    }
    for (const r of serverReasons) items.push(item(false, r));
    if (serverOk && a && !directories.length) items.push(item(true, t("pw.ok")));
    if (b && a !== b) items.push(item(false, t("pw.mismatch")));
    fill(reasons, ...items);
    submit.disabled = sending || !(serverOk && a && a === b);
  };

  const check = () => {
    const candidate = first.value;
    const mine = ++seq;
    if (!candidate) {
      serverReasons = [];
      render();
      return;
    }
    io.check(candidate).then(
      (res) => {
        if (mine !== seq) return;
        if (checkFailed) io.status("ok", t("pw.lead"));
        checkFailed = false;
        serverOk = res.acceptable;
        serverReasons = res.reasons.map((r) => reasonText(r, rules));
        render();
      },
      (e: unknown) => {
        if (mine !== seq) return;
        if (e instanceof ApiError && isFinal(e.code)) io.fatal(e);
        else if (e instanceof ApiError) {
          checkFailed = true;
          io.status("bad", errorText(e.body, "approval.password"));
        }
      },
    );
  };

  first.addEventListener("input", () => {
    window.clearTimeout(timer);
    serverOk = false;
    serverReasons = [];
    directories = [];
    submit.textContent = t("pw.submit");
    render();
    timer = window.setTimeout(check, DEBOUNCE_MS);
  });
  second.addEventListener("input", render);
  toggle.addEventListener("click", () => {
    const show = first.type === "password";
    first.type = second.type = show ? "text" : "password";
    toggle.textContent = show ? t("pw.hide") : t("pw.show");
    toggle.setAttribute("aria-pressed", String(show));
  });

  const send = async () => {
    if (submit.disabled) return;
    sending = true;
    render();
    io.busy(true);
    io.status("info", t("pw.working"));
    try {
      io.done(await io.set(first.value));
      return;
    } catch (caught) {
      const e = caught instanceof ApiError ? caught : new ApiError({ code: "internal", message: t("error.generic") }, 0);
      if (isFinal(e.code)) {
        io.fatal(e);
        return;
      }
      io.status("bad", errorText(e.body, "approval.password"));
      if (e.code === "password_rejected") {
        serverOk = false;
        serverReasons = (e.body.reasons ?? []).map((r) => reasonText(r, rules));
      } else if (e.code === "partially_written") {
        // Some linked directories hold it, some don't: the same password again finishes.
        directories = e.body.directories ?? [];
        submit.textContent = t("pw.retry");
      }
    } finally {
      sending = false;
    }
    io.busy(false);
    render();
  };

  return h(
    "form",
    {
      class: "stack",
      id: "password-form",
      novalidate: true,
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void send();
      },
    },
    h("h1", { tabindex: -1 }, t("pw.heading")),
    rules &&
      h("div", { class: "rules-box" }, h("p", { class: "rules-title" }, t("pw.rules")), rulesList(rules), h("p", { class: "tip" }, t("pw.tip"))),
    h("div", { class: "label-row" }, h("label", { for: "new-password", class: "label" }, t("pw.new")), toggle),
    first,
    h("label", { for: "confirm-password", class: "label" }, t("pw.confirm")),
    second,
    reasons,
    submit,
  );
}
