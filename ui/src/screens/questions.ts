// Security questions: each question the server asked with its answer field, typed on the
// on-screen keyboard. Answers show as dots unless the person asks to see them (someone
// may be standing behind), live only in this screen's fields (never in `app`), and go with
// the screen: main.ts empties every field when the screen changes or the kiosk wipes.
import type { App } from "../app";
import { h } from "../dom";
import { t } from "../i18n";
import { api } from "../ipc";
import { keyboard } from "../keyboard";
import { frame } from "./chrome";
import { afterVerified, step } from "./progress";

/** The server's limit (`ANSWER_MAX`): a longer answer can't be the registered one. */
const ANSWER_MAX = 200;

export function questions(app: App): HTMLElement {
  const flow = app.flow!;
  const ch = app.challenge!;
  const asked = ch.questions ?? [];
  // What to know, or what went wrong, beside the Verify button. The page's notice would
  // go above the card and push the keyboard off the screen, so this screen says its own.
  const say = h("p", { class: "questions-say", id: "questions-say", "aria-live": "polite" });
  const hint = () => {
    say.classList.remove("questions-say-error");
    say.textContent = t("questions.caseless");
  };
  const fail = (text: string) => {
    say.classList.add("questions-say-error");
    say.textContent = text;
  };
  if (app.notice) fail(app.notice);
  else hint();
  app.notice = null;
  let focused: HTMLInputElement | null = null;

  const fields = asked.map((question, i) => {
    const id = `answer-${i + 1}`;
    const input = h("input", {
      id,
      type: "password",
      autocomplete: "off",
      autocapitalize: "none",
      autocorrect: "off",
      spellcheck: "false",
      maxlength: ANSWER_MAX,
      class: "field field-answer",
      "data-answer": i + 1,
    }) as HTMLInputElement;
    if (i === 0) input.setAttribute("autofocus", "");
    input.addEventListener("focus", () => (focused = input));
    input.addEventListener("input", () => {
      if (input.value && say.classList.contains("questions-say-error")) hint();
    });
    const row = h(
      "div",
      { class: "question" },
      h("label", { for: id, class: "question-text" }, h("span", { class: "question-no", "aria-hidden": "true" }, String(i + 1)), h("span", {}, question)),
      input,
    );
    return { input, row };
  });
  focused = fields[0]?.input ?? null;

  const toggle = h("button", { type: "button", class: "btn btn-quiet btn-small", id: "toggle-answers", "aria-pressed": "false" }, t("questions.show")) as HTMLButtonElement;
  toggle.addEventListener("click", () => {
    const visible = fields[0]?.input.type === "password";
    for (const f of fields) f.input.type = visible ? "text" : "password";
    toggle.textContent = visible ? t("questions.hide") : t("questions.show");
    toggle.setAttribute("aria-pressed", String(visible));
  });

  const submit = async () => {
    const empty = fields.find((f) => !f.input.value.trim());
    if (empty) {
      fail(t("questions.answerAll", { n: fields.length }));
      empty.input.focus();
      return;
    }
    const answers = fields.map((f) => f.input.value);
    const next = await app.busy(() => api.answerQuestions(ch.challenge_id, answers));
    if (next) afterVerified(app, next);
  };
  // The keyboard's Enter goes to the next unanswered question, and sends from the last.
  const enter = () => {
    const at = fields.findIndex((f) => f.input === focused);
    const next = fields.slice(at + 1).find((f) => !f.input.value.trim()) ?? fields.find((f) => !f.input.value.trim());
    if (next && next.input !== focused) next.input.focus();
    else void submit();
  };
  for (const f of fields) {
    f.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        enter();
      }
    });
  }

  const other = flow.methods.filter((m) => !m.done).length > 1
    ? h("button", { type: "button", class: "btn btn-quiet", id: "questions-other", onclick: () => app.go({ name: "verify" }) }, t("verify.other"))
    : null;

  return frame(
    app,
    h(
      "form",
      {
        class: "card card-wide card-questions",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void submit();
        },
      },
      step(flow),
      h("h1", { tabindex: -1 }, t("questions.heading")),
      h("div", { class: "question-list" }, ...fields.map((f) => f.row)),
      h(
        "div",
        { class: "questions-bar" },
        toggle,
        say,
        h("div", { class: "questions-bar-end" }, other, h("button", { type: "submit", class: "btn btn-primary", id: "questions-submit" }, t("verify.submit"))),
      ),
      keyboard(() => focused, "text", enter),
    ),
    { cancel: true },
  );
}
