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
  MySession,
  PasskeyFinish,
  PasskeyRequest,
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

function methodRow(m: MyMethod): HTMLElement {
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
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("my.add.heading")),
      addPasskey(),
      addTotp(),
      addEmail(),
      s.can_add.includes("sms") ? addMobile() : null,
      s.can_add.includes("voice") ? addOffice() : null,
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
