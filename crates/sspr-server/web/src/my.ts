// "My security info" (/my): sign in with the directory password (and a registered method
// once there is one), then see, add and remove what the kiosk can use to verify you.
// The session is an HttpOnly cookie the server sets; this page never sees or keeps it.
import { api, ApiError, errorBody, errorText, setState, type Call } from "./common";
import { button, byId, fill, focusFirst, h, input, type Child } from "./dom";
import { lang, t, type Key } from "./i18n";
import type {
  AuthenticatorSetup,
  ConfirmCode,
  EmailStart,
  MobileStart,
  MethodKind,
  MethodView,
  MyMethod,
  MyQuestions,
  MySession,
  PasskeyFinish,
  PasskeyRequest,
  QuestionAnswer,
  QuestionsSave,
  SecondFactorChallenge,
  SecondFactorFinish,
  SecondFactorStart,
  SignInRequest,
} from "./types";
import { createPasskey, getAssertion, passkeyProblem, passkeysSupported } from "./webauthn";

const app = byId("app");
const notice = byId("notice");
const account = byId("account");

document.title = t("my.title");

// ---- small pieces ----------------------------------------------------------------------

function note(text: string): void {
  fill(notice, text);
  notice.hidden = !text;
}

function errorLine(): HTMLElement {
  return h("p", { class: "field-error", role: "alert" });
}

function heading(text: string): HTMLElement {
  return h("h1", { tabindex: -1 }, text);
}

type Field = { label: HTMLElement; input: HTMLInputElement };

function field(id: string, label: Key, attrs: Record<string, string | number | boolean>): Field {
  return { label: h("label", { for: id, class: "label" }, t(label)), input: input({ id, ...attrs }) };
}

function codeField(id: string, label: Key): Field {
  return field(id, label, { class: "field field-code", inputmode: "numeric", pattern: "[0-9]*", autocomplete: "one-time-code", maxlength: 10 });
}

function form(onSubmit: () => void, ...children: Child[]): HTMLElement {
  return h(
    "form",
    {
      class: "stack",
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        onSubmit();
      },
    },
    ...children,
  );
}

function primary(id: string, text: Key, type: "submit" | "button" = "submit"): HTMLButtonElement {
  return h("button", { type, id, class: "btn btn-primary" }, t(text)) as HTMLButtonElement;
}

/**
 * Runs one request for a button: the button is disabled meanwhile, a failure goes in
 * words (as said for `call`) to the error line beside it, and an ended session sends the
 * person to sign in.
 */
async function act<T>(call: Call, btn: HTMLButtonElement, err: HTMLElement, run: () => Promise<T>): Promise<T | undefined> {
  err.textContent = "";
  btn.disabled = true;
  btn.setAttribute("aria-busy", "true");
  try {
    return await run();
  } catch (e) {
    const body = errorBody(e);
    // Outside the sign-in form, 401 means the session ended (15 minutes): sign in again.
    if (body.code === "unauthorized" && document.body.getAttribute("data-state") !== "sign-in") {
      signIn(errorText(body, "my"));
      return undefined;
    }
    err.textContent = e instanceof ApiError ? errorText(body, call) : passkeyProblem(e);
    return undefined;
  } finally {
    btn.disabled = false;
    btn.removeAttribute("aria-busy");
  }
}

function codeValue(el: HTMLInputElement, err: HTMLElement): string | undefined {
  const code = el.value.replace(/\s/g, "");
  if (/^\d{4,10}$/.test(code)) return code;
  err.textContent = t("my.code.invalid");
  el.focus();
  return undefined;
}


function show(state: string, ...children: Child[]): void {
  setState(state);
  fill(app, ...children);
  focusFirst(app);
}

function header(s: MySession | null): void {
  fill(byId("org"), s?.organization || t("my.title"));
  fill(byId("mark"), (s?.organization || "").trim().charAt(0).toUpperCase());
  if (!s) {
    fill(account);
    return;
  }
  const out = button({ id: "sign-out", class: "btn btn-quiet btn-small" }, t("my.signout"));
  out.addEventListener("click", () => {
    out.disabled = true;
    api<void>("POST", "/v1/my/sign-out").then(
      () => signIn(undefined, t("my.signedOut")),
      (e: unknown) => {
        const body = errorBody(e);
        // Already gone is signed out too; otherwise say it didn't work.
        if (body.code === "unauthorized") signIn(undefined, t("my.signedOut"));
        else {
          note(errorText(body, "my"));
          out.disabled = false;
        }
      },
    );
  });
  fill(account, out);
}

function render(s: MySession, message?: string): void {
  note(message ?? "");
  if (s.signed_in) home(s);
  else if (s.second_factor.length) secondFactor(s);
  else signIn();
}

// ---- sign in ---------------------------------------------------------------------------

function signIn(error?: string, message?: string): void {
  header(null);
  note(message ?? "");
  const loginF = field("login", "my.login", { autocomplete: "username", autocapitalize: "none", autocorrect: "off", spellcheck: "false", "data-autofocus": true, maxlength: 256 });
  const loginLabel = loginF.label;
  const login = loginF.input;
  const passwordF = field("password", "my.password", { type: "password", autocomplete: "current-password", maxlength: 512 });
  const passwordLabel = passwordF.label;
  const password = passwordF.input;
  const err = errorLine();
  if (error) err.textContent = error;
  const go = primary("sign-in", "my.signin");
  show(
    "sign-in",
    h(
      "section",
      { class: "card" },
      heading(t("my.title")),
      h("p", { class: "lead" }, t("my.signin.lead")),
      form(
        () =>
          void act("my.signIn", go, err, () => api<MySession>("POST", "/v1/my/sign-in", { login: login.value.trim(), password: password.value } satisfies SignInRequest)).then((s) => {
            // The password is not kept, even in the field, once it has been sent.
            password.value = "";
            if (s) render(s);
            else password.focus();
          }),
        loginLabel,
        login,
        passwordLabel,
        password,
        err,
        go,
      ),
    ),
  );
}

// ---- second factor ---------------------------------------------------------------------

function methodText(m: MethodView): string {
  switch (m.kind) {
    case "email":
      return t("my.method.email", { masked: m.masked });
    case "totp":
      return t("my.method.totp");
    case "sms":
      return t("my.method.sms", { masked: m.masked });
    case "voice":
      return t("my.method.voice", { masked: m.masked });
    case "approval":
      return t("my.method.approval", { masked: m.masked });
    default:
      return m.masked;
  }
}

function secondFactor(s: MySession): void {
  header(s);
  const err = errorLine();
  const panel = h("div", { class: "stack" });
  // Security questions need a form of their own, which this page doesn't have.
  const usable = s.second_factor.filter((m) => m.kind !== "questions");
  const list = h(
    "div",
    { class: "choices" },
    ...usable.map((m) => {
      const b = button({ class: "choice", "data-method-id": m.id, "data-kind": m.kind }, methodText(m));
      b.addEventListener("click", () => void choose(m, b));
      return b;
    }),
  );

  const choose = async (m: MethodView, b: HTMLButtonElement) => {
    fill(panel);
    if (m.kind === "approval" && !passkeysSupported()) {
      err.textContent = t("passkey.unsupported");
      return;
    }
    for (const other of Array.prototype.slice.call(list.children) as HTMLElement[]) other.setAttribute("aria-pressed", String(other === b));
    const ch = await act("my.second", b, err, () => api<SecondFactorChallenge>("POST", "/v1/my/second-factor/start", { method_id: m.id } satisfies SecondFactorStart));
    if (!ch) return;
    if (ch.kind === "approval") {
      // Straight from the tap to the passkey prompt (see webauthn.ts).
      const session = await act("my.second", b, err, async () => {
        const credential = await getAssertion((ch.passkey as PasskeyRequest).options);
        return api<MySession>("POST", "/v1/my/second-factor/finish", { credential } satisfies SecondFactorFinish);
      });
      if (session) render(session);
      return;
    }
    const codeF = codeField("code", "my.code.label");
    const codeLabel = codeF.label;
    const code = codeF.input;
    code.setAttribute("data-autofocus", "");
    const verify = primary("verify", "my.verify");
    const codeErr = errorLine();
    const lead = ch.kind === "totp" ? t("my.code.totp") : ch.sent_to ? t("my.code.sentTo", { to: ch.sent_to }) : t("my.code.sent");
    fill(
      panel,
      form(
        () => {
          const value = codeValue(code, codeErr);
          if (value === undefined) return;
          void act("my.second", verify, codeErr, () => api<MySession>("POST", "/v1/my/second-factor/finish", { code: value } satisfies SecondFactorFinish)).then((session) => session && render(session));
        },
        h("p", {}, lead),
        codeLabel,
        code,
        codeErr,
        verify,
      ),
    );
    focusFirst(panel);
  };

  show(
    "second-factor",
    h("section", { class: "card" }, heading(t("my.second.heading")), h("p", { class: "lead" }, t("my.second.lead")), list, err, panel),
  );
}

// ---- signed in -------------------------------------------------------------------------

const KIND_LABEL: Record<MethodKind, Key> = {
  approval: "my.kind.approval",
  totp: "my.kind.totp",
  email: "my.kind.email",
  sms: "my.kind.sms",
  voice: "my.kind.voice",
  questions: "my.kind.questions",
};

function added(at: string): string {
  const d = new Date(at);
  if (isNaN(d.getTime())) return at;
  try {
    return d.toLocaleDateString(lang, { year: "numeric", month: "long", day: "numeric" });
  } catch {
    return d.toDateString();
  }
}

function methodRow(given: MyMethod): HTMLElement {
  // Security questions have no name of their own: the kind, in the page's language.
  const m = given.kind === "questions" ? { ...given, label: t("my.kind.questions") } : given;
  const row = h("li", { class: "method-row", "data-id": m.id, "data-kind": m.kind });
  const err = errorLine();
  const normal = () => {
    const remove = button({ class: "btn btn-quiet btn-small", "data-remove": m.id }, t("my.remove"));
    remove.addEventListener("click", confirm);
    fill(
      row,
      h(
        "div",
        { class: "method-main" },
        // The kind, unless the label already says it ("Authenticator app").
        m.label.toLowerCase() !== t(KIND_LABEL[m.kind]).toLowerCase() && h("span", { class: "kind" }, t(KIND_LABEL[m.kind])),
        h("span", { class: "method-label" }, m.label),
        m.detail && h("span", { class: "method-detail" }, m.detail),
        h("span", { class: "muted" }, t("my.added", { date: added(m.added_at) })),
      ),
      remove,
    );
    return remove;
  };
  // Removing is a second tap, on a button that says what happens.
  const confirm = () => {
    const yes = button({ class: "btn btn-danger btn-small", "data-confirm-remove": m.id }, t("my.remove.yes"));
    const no = button({ class: "btn btn-quiet btn-small", "data-keep": m.id }, t("my.remove.no"));
    yes.addEventListener("click", () =>
      void act("my", yes, err, () => api<MySession>("DELETE", `/v1/my/methods/${encodeURIComponent(m.id)}`)).then((s) => s && render(s, t("my.removed"))),
    );
    no.addEventListener("click", () => normal().focus());
    fill(row, h("div", { class: "method-main" }, h("span", { class: "method-label" }, t("my.remove.confirm", { label: m.label })), err), h("div", { class: "row-actions" }, no, yes));
    yes.focus();
  };
  normal();
  return row;
}

function deviceName(): string {
  const ua = navigator.userAgent;
  const device = /iPhone/.test(ua)
    ? "iPhone"
    : /iPad/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)
      ? "iPad"
      : /Android/.test(ua)
        ? t("my.device.android")
        : /Macintosh/.test(ua)
          ? "Mac"
          : /Windows/.test(ua)
            ? t("my.device.windows")
            : /CrOS/.test(ua)
              ? "Chromebook"
              : /Linux/.test(ua)
                ? t("my.device.linux")
                : "";
  return device ? t("my.device", { device }) : t("my.passkey.defaultName");
}

function addCard(title: Key, why: Key, ...children: Child[]): HTMLElement {
  return h("section", { class: "add-card" }, h("h3", {}, t(title)), h("p", { class: "why" }, t(why)), ...children);
}

function addPasskey(): HTMLElement {
  const nameF = field("passkey-name", "my.passkey.name", { value: deviceName(), maxlength: 64, autocomplete: "off" });
  const label = nameF.label;
  const name = nameF.input;
  const go = primary("add-passkey", "my.passkey.add");
  const err = errorLine();
  if (!passkeysSupported()) {
    go.disabled = true;
    err.textContent = t("my.passkey.unsupported");
  }
  return addCard(
    "my.passkey.heading",
    "my.passkey.why",
    form(
      () =>
        void act("my.passkey", go, err, async () => {
          const req = await api<PasskeyRequest>("POST", "/v1/my/passkeys/start");
          const credential = await createPasskey(req.options);
          return api<MySession>("POST", "/v1/my/passkeys/finish", { name: name.value.trim() || deviceName(), credential } satisfies PasskeyFinish);
        }).then((s) => s && render(s, t("my.passkey.added"))),
      label,
      name,
      err,
      go,
    ),
  );
}

// The SVG goes in as an image, not as markup: nothing from the network is parsed into the
// page, and the CSP needs no inline style for it.
function svgImage(svg: string, alt: string): HTMLElement {
  const bytes = new TextEncoder().encode(svg);
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return h("img", { class: "qr", src: `data:image/svg+xml;base64,${btoa(bin)}`, alt, width: 220, height: 220 });
}

function addTotp(): HTMLElement {
  const go = primary("add-totp", "my.totp.add", "button");
  const err = errorLine();
  const panel = h("div", { class: "stack" });
  go.addEventListener("click", () =>
    void act("my", go, err, () => api<AuthenticatorSetup>("POST", "/v1/my/authenticator/start")).then((setup) => {
      if (!setup) return;
      go.hidden = true;
      const codeF = codeField("totp-code", "my.totp.code");
      const codeLabel = codeF.label;
      const code = codeF.input;
      const confirm = primary("totp-confirm", "my.totp.confirm");
      const codeErr = errorLine();
      const copy = button({ class: "btn btn-quiet btn-small", id: "copy-secret" }, t("my.totp.copy"));
      copy.addEventListener("click", () => {
        if (!navigator.clipboard) return;
        navigator.clipboard.writeText(setup.secret.replace(/\s/g, "")).then(
          () => (copy.textContent = t("my.totp.copied")),
          () => undefined,
        );
      });
      const cancel = button({ class: "btn btn-quiet" }, t("common.cancel"));
      cancel.addEventListener("click", () => {
        fill(panel);
        go.hidden = false;
        go.focus();
      });
      fill(
        panel,
        h("p", {}, t("my.totp.scan")),
        h("div", { class: "qr-box" }, svgImage(setup.qr_svg, t("my.totp.qr"))),
        /^otpauth:/.test(setup.uri) && h("a", { class: "btn btn-quiet btn-link", href: setup.uri, id: "totp-open" }, t("my.totp.open")),
        h("p", { class: "label" }, t("my.totp.secret")),
        h("div", { class: "secret-row" }, h("code", { class: "secret", id: "totp-secret" }, setup.secret), copy),
        form(
          () => {
            const value = codeValue(code, codeErr);
            if (value === undefined) return;
            void act("my.totp", confirm, codeErr, () => api<MySession>("POST", "/v1/my/authenticator/finish", { code: value } satisfies ConfirmCode)).then((s) => s && render(s, t("my.totp.added")));
          },
          codeLabel,
          code,
          codeErr,
          h("div", { class: "row-actions" }, cancel, confirm),
        ),
      );
    }),
  );
  return addCard("my.totp.heading", "my.totp.why", go, err, panel);
}

function addEmail(): HTMLElement {
  const emailF = field("email", "my.email.label", { type: "email", autocomplete: "email", autocapitalize: "none", spellcheck: "false", maxlength: 254 });
  const label = emailF.label;
  const email = emailF.input;
  const go = primary("add-email", "my.email.add");
  const err = errorLine();
  const panel = h("div", { class: "stack" });
  const start = () => {
    const address = email.value.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
      err.textContent = t("my.email.invalid");
      email.focus();
      return;
    }
    void act("my.email", go, err, () => api<void>("POST", "/v1/my/email/start", { email: address } satisfies EmailStart).then(() => true)).then((sent) => {
      if (!sent) return;
      const codeF = codeField("email-code", "my.email.code");
      const codeLabel = codeF.label;
      const code = codeF.input;
      const confirm = primary("email-confirm", "my.email.confirm");
      const codeErr = errorLine();
      fill(
        panel,
        form(
          () => {
            const value = codeValue(code, codeErr);
            if (value === undefined) return;
            void act("my.email", confirm, codeErr, () => api<MySession>("POST", "/v1/my/email/finish", { code: value } satisfies ConfirmCode)).then((s) => s && render(s, t("my.email.added")));
          },
          h("p", { role: "status" }, t("my.email.sent", { email: address })),
          codeLabel,
          code,
          codeErr,
          confirm,
        ),
      );
      code.focus();
    });
  };
  return addCard("my.email.heading", "my.email.why", form(start, label, email, err, go), panel);
}

function addMobile(): HTMLElement {
  const numberF = field("mobile", "my.mobile.label", { type: "tel", autocomplete: "tel", inputmode: "tel", maxlength: 32 });
  const label = numberF.label;
  const number = numberF.input;
  const go = primary("add-mobile", "my.mobile.add");
  const err = errorLine();
  const panel = h("div", { class: "stack" });
  const start = () => {
    const typed = number.value.trim();
    if (!/^[+0-9 ()./-]{4,32}$/.test(typed)) {
      err.textContent = t("my.mobile.invalid");
      number.focus();
      return;
    }
    void act("my.mobile", go, err, () => api<void>("POST", "/v1/my/mobile/start", { number: typed } satisfies MobileStart).then(() => true)).then((sent) => {
      if (!sent) return;
      const codeF = codeField("mobile-code", "my.mobile.code");
      const code = codeF.input;
      const confirm = primary("mobile-confirm", "my.mobile.confirm");
      const codeErr = errorLine();
      fill(
        panel,
        form(
          () => {
            const value = codeValue(code, codeErr);
            if (value === undefined) return;
            void act("my.mobile", confirm, codeErr, () => api<MySession>("POST", "/v1/my/mobile/finish", { code: value } satisfies ConfirmCode)).then((s) => s && render(s, t("my.mobile.added")));
          },
          h("p", { role: "status" }, t("my.mobile.sent", { number: typed })),
          codeF.label,
          code,
          codeErr,
          confirm,
        ),
      );
      code.focus();
    });
  };
  return addCard("my.mobile.heading", "my.mobile.why", form(start, label, number, err, go), panel);
}

function addOffice(): HTMLElement {
  const numberF = field("office", "my.office.label", { type: "tel", autocomplete: "tel", inputmode: "tel", maxlength: 48 });
  const number = numberF.input;
  const go = primary("add-office", "my.office.add");
  const err = errorLine();
  const panel = h("div", { class: "stack" });
  const start = () => {
    const typed = number.value.trim();
    if (!/^[+0-9 ()./#;=a-zA-Z-]{4,48}$/.test(typed)) {
      err.textContent = t("my.office.invalid");
      number.focus();
      return;
    }
    void act("my.office", go, err, () => api<void>("POST", "/v1/my/office/start", { number: typed } satisfies MobileStart).then(() => true)).then((called) => {
      if (!called) return;
      const codeF = codeField("office-code", "my.office.code");
      const code = codeF.input;
      const confirm = primary("office-confirm", "my.office.confirm");
      const codeErr = errorLine();
      fill(
        panel,
        form(
          () => {
            const value = codeValue(code, codeErr);
            if (value === undefined) return;
            void act("my.office", confirm, codeErr, () => api<MySession>("POST", "/v1/my/office/finish", { code: value } satisfies ConfirmCode)).then((s) => s && render(s, t("my.office.added")));
          },
          h("p", { role: "status" }, t("my.office.calling", { number: typed })),
          codeF.label,
          code,
          codeErr,
          confirm,
        ),
      );
      code.focus();
    });
  };
  return addCard("my.office.heading", "my.office.why", form(start, numberF.label, number, err, go), panel);
}

// ---- security questions -----------------------------------------------------------------

/** The server's limits (methods/questions): an own question's and an answer's length. */
const QUESTION_MIN = 10;
const QUESTION_MAX = 200;
const ANSWER_MIN = 3;
const ANSWER_MAX = 200;
const OWN = "own";

/** As the server compares answers (NFKC, case-folded, spaces collapsed), near enough to check before sending. */
function folded(text: string): string {
  return text.normalize("NFKC").toLowerCase().normalize("NFKC").split(/\s+/).filter(Boolean).join(" ");
}

function loadQuestions(): Promise<MyQuestions> {
  return api<MyQuestions>("GET", `/v1/my/questions?locale=${encodeURIComponent(lang)}`);
}

type QuestionBlock = {
  select: HTMLSelectElement;
  own: HTMLInputElement;
  answer: HTMLInputElement;
  err: HTMLElement;
  el: HTMLElement;
};

/**
 * Choose `register` questions (each once; one's own where allowed), answer each, save all
 * at once. `current`: the questions registered now, chosen again to start with (answers
 * are never shown, so they are typed again).
 */
function questionsForm(q: MyQuestions, current: string[], onCancel?: () => void): HTMLElement {
  const blocks: QuestionBlock[] = [];
  for (let i = 0; i < q.register; i++) {
    const n = i + 1;
    const select = h(
      "select",
      { id: `question-${n}`, class: "field field-select", "data-question": n },
      h("option", { value: "" }, t("my.questions.choose")),
      ...q.list.map((c) => h("option", { value: c.id }, c.text)),
      q.own_allowed && h("option", { value: OWN }, t("my.questions.own")),
    ) as HTMLSelectElement;
    const ownF = field(`own-${n}`, "my.questions.ownLabel", { maxlength: QUESTION_MAX, autocomplete: "off" });
    const ownRow = h("div", { class: "stack sq-own" }, ownF.label, ownF.input);
    const answerF = field(`answer-${n}`, "my.questions.answer", { maxlength: ANSWER_MAX, autocomplete: "off", autocapitalize: "none", autocorrect: "off", spellcheck: "false" });
    const err = errorLine();
    const el = h(
      "fieldset",
      { class: "sq-block", "data-block": n },
      h("legend", { class: "label" }, t("my.questions.question", { n })),
      select,
      ownRow,
      answerF.label,
      answerF.input,
      err,
    );
    const was = current[i];
    if (was !== undefined) {
      const listed = q.list.find((c) => c.text === was);
      if (listed) select.value = listed.id;
      else if (q.own_allowed) {
        select.value = OWN;
        ownF.input.value = was;
      }
    }
    // The answer's label is the question chosen, whole: a phone's select cuts it short.
    const answerLabel = answerF.label;
    const sync = () => {
      ownRow.hidden = select.value !== OWN;
      const listed = q.list.find((c) => c.id === select.value);
      fill(answerLabel, listed ? t("my.questions.answerTo", { question: listed.text }) : t("my.questions.answer"));
    };
    select.addEventListener("change", () => {
      sync();
      err.textContent = "";
      noTwice();
      (select.value === OWN ? ownF.input : answerF.input).focus();
    });
    sync();
    blocks.push({ select, own: ownF.input, answer: answerF.input, err, el });
  }
  // A question of the list chosen in one place can't be chosen in another.
  function noTwice(): void {
    for (const b of blocks) {
      const elsewhere = blocks.filter((o) => o !== b).map((o) => o.select.value);
      for (const opt of Array.prototype.slice.call(b.select.options) as HTMLOptionElement[]) {
        opt.disabled = opt.value !== "" && opt.value !== OWN && elsewhere.indexOf(opt.value) >= 0;
      }
    }
  }
  noTwice();

  const questionText = (b: QuestionBlock): string =>
    b.select.value === OWN ? b.own.value.trim() : (q.list.find((c) => c.id === b.select.value)?.text ?? "");

  /** The first rule broken, said beside its question (the server checks them all again). */
  const check = (): boolean => {
    for (const b of blocks) b.err.textContent = "";
    const seenQuestions: string[] = [];
    const seenAnswers: string[] = [];
    for (const b of blocks) {
      const fail = (key: Key, el: HTMLElement) => {
        b.err.textContent = t(key);
        el.focus();
        return false;
      };
      if (!b.select.value) return fail("my.questions.pick", b.select);
      const ownLength = b.own.value.trim().length;
      if (b.select.value === OWN && (ownLength < QUESTION_MIN || ownLength > QUESTION_MAX)) return fail("my.questions.ownLength", b.own);
      const question = folded(questionText(b));
      if (seenQuestions.indexOf(question) >= 0) return fail("my.questions.twice", b.select);
      seenQuestions.push(question);
      const answer = folded(b.answer.value);
      if (answer.length < ANSWER_MIN) return fail("my.questions.short", b.answer);
      const bare = question.replace(/[?.!\s]+$/, "");
      const words = question.split(/[^\p{L}\p{N}]+/u);
      if (answer.indexOf(bare) >= 0 || words.indexOf(answer) >= 0) return fail("my.questions.containsQuestion", b.answer);
      if (seenAnswers.indexOf(answer) >= 0) return fail("my.questions.sameAnswer", b.answer);
      seenAnswers.push(answer);
    }
    return true;
  };

  const save = primary("save-questions", "my.questions.save");
  const err = errorLine();
  err.id = "questions-error";
  const cancel = onCancel && button({ class: "btn btn-quiet", id: "cancel-questions" }, t("common.cancel"));
  if (cancel && onCancel) cancel.addEventListener("click", onCancel);
  const submit = () => {
    err.textContent = "";
    if (!check()) return;
    const answers: QuestionAnswer[] = blocks.map((b) =>
      b.select.value === OWN ? { own: b.own.value.trim(), answer: b.answer.value } : { id: b.select.value, answer: b.answer.value },
    );
    void act("my.questions", save, err, () => api<MySession>("PUT", "/v1/my/questions", { answers } satisfies QuestionsSave)).then((s) => {
      // What was typed goes once it has been sent, whatever the answer.
      if (s) {
        for (const b of blocks) b.answer.value = "";
        render(s, t("my.questions.saved"));
      }
    });
  };
  return form(
    submit,
    h("p", {}, t(current.length ? "my.questions.changeLead" : "my.questions.lead", { n: q.register })),
    ...blocks.map((b) => b.el),
    err,
    h("div", { class: "row-actions" }, cancel, save),
  );
}

/** Not registered yet: what they are, and the form behind a button. */
function addQuestions(): HTMLElement {
  const go = primary("add-questions", "my.questions.setUp", "button");
  const err = errorLine();
  const panel = h("div", { class: "stack" });
  go.addEventListener("click", () =>
    void act("my.questions", go, err, loadQuestions).then((q) => {
      if (!q) return;
      go.hidden = true;
      fill(
        panel,
        questionsForm(q, [], () => {
          fill(panel);
          go.hidden = false;
          go.focus();
        }),
      );
      panel.querySelector<HTMLElement>("select")?.focus();
    }),
  );
  return addCard("my.questions.heading", "my.questions.why", go, err, panel);
}

/** Registered: the questions (never the answers), to change or remove. */
function registeredQuestions(m: MyMethod): HTMLElement {
  const body = h("div", { class: "stack", id: "questions-card" }, h("div", { class: "spinner", role: "presentation" }));
  const card = h("section", { class: "card", id: "security-questions" }, h("h2", {}, t("my.questions.heading")), body);
  const err = errorLine();
  const showing = (q: MyQuestions) => {
    const change = button({ class: "btn btn-quiet btn-small", id: "change-questions" }, t("my.questions.change"));
    const remove = button({ class: "btn btn-quiet btn-small", id: "remove-questions" }, t("my.questions.remove"));
    change.addEventListener("click", () => {
      fill(body, questionsForm(q, q.registered, () => showing(q)));
      body.querySelector<HTMLElement>("select")?.focus();
    });
    remove.addEventListener("click", () => {
      const yes = button({ class: "btn btn-danger btn-small", id: "confirm-remove-questions" }, t("my.remove.yes"));
      const no = button({ class: "btn btn-quiet btn-small", id: "keep-questions" }, t("my.remove.no"));
      yes.addEventListener("click", () =>
        void act("my", yes, err, () => api<MySession>("DELETE", `/v1/my/methods/${encodeURIComponent(m.id)}`)).then((s) => s && render(s, t("my.removed"))),
      );
      no.addEventListener("click", () => showing(q));
      fill(body, h("p", { class: "method-label" }, t("my.questions.removeConfirm")), err, h("div", { class: "row-actions" }, no, yes));
      yes.focus();
    });
    fill(
      body,
      h("p", { class: "muted" }, t(q.ask >= q.registered.length ? "my.questions.yoursAll" : "my.questions.yours", { ask: q.ask, n: q.registered.length })),
      h("ol", { class: "sq-list", id: "registered-questions" }, ...q.registered.map((text) => h("li", {}, text))),
      h("p", { class: "muted" }, t("my.questions.never")),
      err,
      h("div", { class: "row-actions" }, remove, change),
    );
  };
  loadQuestions().then(showing, (e: unknown) => {
    const b = errorBody(e);
    if (b.code === "unauthorized") return signIn(errorText(b, "my"));
    fill(body, h("p", { class: "field-error", role: "alert" }, errorText(b, "my.questions")));
  });
  return card;
}

// The organisation asks, every so many days, whether the methods are still right: a
// phone number or address the person no longer has is a way in for whoever has it now.
function review(s: MySession): HTMLElement | false {
  if (!s.review_due) return false;
  const err = errorLine();
  const yes = primary("review-confirm", "my.review.confirm", "button");
  yes.addEventListener("click", () =>
    void act("my.review", yes, err, () => api<MySession>("POST", "/v1/my/review")).then((n) => n && render(n, t("my.review.done", { days: n.review_days }))),
  );
  return h(
    "div",
    { id: "review", class: "result result-info", role: "region", "aria-labelledby": "review-title" },
    h("p", { id: "review-title", class: "result-title" }, t("my.review.heading")),
    h("p", { class: "result-detail" }, t("my.review.lead", { days: s.review_days })),
    err,
    h("div", { class: "row-actions review-actions" }, yes),
  );
}

function home(s: MySession): void {
  header(s);
  const questions = s.can_add.includes("questions");
  const registered = s.methods.find((m) => m.kind === "questions");
  show(
    "signed-in",
    h(
      "section",
      { class: "card" },
      heading(t("my.hello", { name: s.display_name || s.username })),
      h("p", { class: "lead" }, t("my.lead")),
      review(s),
      h("h2", {}, t("my.methods.heading")),
      h("ul", { id: "methods", class: "method-list" }, ...(s.methods.length ? s.methods.map(methodRow) : [h("li", { class: "empty" }, t("my.methods.none"))])),
    ),
    questions && registered ? registeredQuestions(registered) : null,
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("my.add.heading")),
      addPasskey(),
      addTotp(),
      addEmail(),
      s.can_add.includes("sms") ? addMobile() : null,
      s.can_add.includes("voice") ? addOffice() : null,
      questions && !registered ? addQuestions() : null,
    ),
  );
}

// ---- start -----------------------------------------------------------------------------

api<MySession>("GET", "/v1/my/session").then(
  (s) => render(s),
  (e: unknown) => {
    const body = errorBody(e);
    // 401 is the ordinary "not signed in"; anything else is worth a word.
    signIn(body.code === "unauthorized" ? undefined : errorText(body, "my"));
  },
);
