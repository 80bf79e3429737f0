// The approval page a phone opens from the kiosk's QR code (/a/<token>): say who asks for
// what, take the number the kiosk shows, prove the person with their passkey, and
// optionally take the new password, so it is never typed on the shared kiosk.
import { api, ApiError, applyAccent, clock, errorBody, errorText, helpdeskBox, setState, type Call } from "./common";
import { button, byId, fill, focusFirst, h, input, type Child } from "./dom";
import { t, tParts } from "./i18n";
import { passwordForm } from "./password";
import type {
  ApprovalFinishRequest,
  ApprovalGranted,
  ApprovalInfo,
  ApprovalNumberRequest,
  ApprovalPasswordCheckRequest,
  ApprovalPasswordRequest,
  ApprovalTokenRequest,
  DoneView,
  ErrorBody,
  Helpdesk,
  PasskeyRequest,
  PasswordCheck,
} from "./types";
import { getAssertion, passkeyProblem, passkeysSupported } from "./webauthn";

const result = byId("result");
const view = byId("view");
// The token is the key: it stays in request bodies, never in a query string or a log.
const token = (() => {
  const m = /^\/a\/([^/]+)\/?$/.exec(location.pathname);
  try {
    return m ? decodeURIComponent(m[1]) : "";
  } catch {
    return "";
  }
})();

let helpdesk: Helpdesk | undefined;
let deadline = 0;
let ticker = 0;

document.title = t("phone.title");

function say(kind: "ok" | "bad" | "info" | "", title: string, detail?: string): void {
  result.className = `result${kind ? ` result-${kind}` : ""}`;
  fill(result, title && h("p", { class: "result-title" }, title), detail && h("p", { class: "result-detail" }, detail));
}

function show(state: string, ...children: Child[]): void {
  setState(state);
  fill(view, ...children);
  // Outcomes have no field or heading below: the result itself takes the focus.
  if (!focusFirst(view)) result.focus();
}

function stopClock(): void {
  window.clearInterval(ticker);
  ticker = 0;
}

function closing(): HTMLElement {
  return h("p", { class: "muted center" }, t("phone.closeable"));
}

/** A final answer: nothing more can be done on this page. */
function failed(message: string, detail?: string): void {
  stopClock();
  say("bad", message, detail);
  show("failed", helpdeskBox(helpdesk));
}

function failedWith(e: unknown, call: Call): void {
  const body: ErrorBody = errorBody(e);
  // Blocked: starting again won't help for now; the helpdesk will.
  failed(errorText(body, call), body.code === "blocked" ? undefined : t("phone.startAgain"));
}

function working(text: string): void {
  stopClock();
  say("info", text);
  show("working", h("div", { class: "spinner", role: "presentation" }));
}

async function open(): Promise<void> {
  if (!token) {
    failed(t("phone.badLink"));
    return;
  }
  say("info", t("common.loading"));
  let info: ApprovalInfo;
  try {
    info = await api<ApprovalInfo>("POST", "/v1/approval/open", { token } satisfies ApprovalTokenRequest);
  } catch (e) {
    failedWith(e, "approval");
    return;
  }
  helpdesk = info.helpdesk;
  applyAccent(info.accent_color);
  fill(byId("org"), info.organization);
  fill(byId("mark"), info.organization.trim().charAt(0).toUpperCase());
  deadline = Date.now() + info.expires_in_secs * 1000;
  ask(info);
}

function ask(info: ApprovalInfo, error?: string): void {
  say("", "");
  const kiosk = info.kiosk_location ? `${info.kiosk_name}, ${info.kiosk_location}` : info.kiosk_name;
  const number = input({
    id: "number",
    class: "field field-number",
    type: "text",
    inputmode: "numeric",
    pattern: "[0-9]*",
    autocomplete: "one-time-code",
    maxlength: 2,
    "aria-describedby": "number-error",
    "data-autofocus": true,
  });
  const numberError = h("p", { id: "number-error", class: "field-error", role: "alert" }, error ?? "");
  const countdown = h("p", { id: "countdown", class: "countdown", "aria-live": "off" });
  const approve = button({ id: "approve", class: "btn btn-decide btn-approve" }, t("phone.approve"));
  const deny = button({ id: "deny", class: "btn btn-decide btn-deny" }, t("phone.deny"));

  number.addEventListener("input", () => {
    const digits = number.value.replace(/\D/g, "").slice(0, 2);
    if (digits !== number.value) number.value = digits;
    numberError.textContent = "";
    // Two digits in: put the keyboard away so both buttons are in view.
    if (digits.length === 2) number.blur();
  });
  approve.addEventListener("click", () => void onApprove(info, number, numberError));
  deny.addEventListener("click", () => void onDeny(info));

  show(
    "ask",
    h("p", { class: "request" }, ...tParts(info.intent === "unlock" ? "phone.ask.unlock" : "phone.ask.reset", { kiosk, account: info.account }, (v) => h("strong", {}, v))),
    countdown,
    h("h1", { tabindex: -1, class: "question" }, t("phone.ask.question")),
    h("label", { for: "number", class: "label" }, t("phone.number.label")),
    number,
    numberError,
    h("p", { class: "hint" }, t("phone.ask.hint")),
    h("div", { class: "decide" }, deny, approve),
  );

  const tick = () => {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) failed(t("phone.expired"));
    else countdown.textContent = t("phone.expiresIn", { time: clock(left) });
  };
  tick();
  stopClock();
  if (document.body.getAttribute("data-state") === "ask") ticker = window.setInterval(tick, 1000);
}

async function onApprove(info: ApprovalInfo, number: HTMLInputElement, numberError: HTMLElement): Promise<void> {
  const value = number.value.trim();
  if (!/^\d{2}$/.test(value)) {
    numberError.textContent = t("phone.number.invalid");
    number.focus();
    return;
  }
  // Checked before the number is spent, so Deny stays possible on such a browser.
  if (!passkeysSupported()) {
    numberError.textContent = t("passkey.unsupported");
    return;
  }
  // Between the tap and credentials.get there is one fetch and nothing else that waits:
  // older Safari only lets WebAuthn run that close to a user's tap.
  working(t("phone.working.number"));
  let req: PasskeyRequest;
  try {
    req = await api<PasskeyRequest>("POST", "/v1/approval/number", { token, number: value } satisfies ApprovalNumberRequest);
  } catch (e) {
    // No answer at all: the server may not have seen it; let them try once more.
    if (e instanceof ApiError && e.code === "unreachable") ask(info, e.message);
    else failedWith(e, "approval.number");
    return;
  }
  say("info", t("phone.working.passkey"));
  let credential: unknown;
  try {
    credential = await getAssertion(req.options);
  } catch (e) {
    // The number was accepted; a second passkey prompt is not offered: start again.
    failed(passkeyProblem(e), t("phone.over"));
    return;
  }
  say("info", t("phone.working.finish"));
  let granted: ApprovalGranted;
  try {
    granted = await api<ApprovalGranted>("POST", "/v1/approval/finish", { token, credential } satisfies ApprovalFinishRequest);
  } catch (e) {
    failedWith(e, "approval.passkey");
    return;
  }
  if (granted.finish_on_phone) newPassword(granted);
  else {
    say("ok", t("phone.approved"));
    show("approved", closing());
  }
}

async function onDeny(info: ApprovalInfo): Promise<void> {
  working(t("phone.working.deny"));
  try {
    await api<void>("POST", "/v1/approval/deny", { token } satisfies ApprovalTokenRequest);
  } catch (e) {
    if (e instanceof ApiError && e.code === "unreachable") ask(info, e.message);
    else failedWith(e, "approval");
    return;
  }
  say("ok", t("phone.denied"));
  show("denied", helpdeskBox(helpdesk));
}

function newPassword(granted: ApprovalGranted): void {
  // Only this phone holds the key: the token was on the kiosk's screen for all to see.
  const key = granted.password_key ?? "";
  say("ok", t("pw.lead"));
  const form = passwordForm(granted.password_rules, {
    check: (candidate) => api<PasswordCheck>("POST", "/v1/approval/password-check", { token, key, candidate } satisfies ApprovalPasswordCheckRequest),
    set: (password) => api<DoneView>("POST", "/v1/approval/password", { token, key, new_password: password } satisfies ApprovalPasswordRequest),
    status: (kind, text) => say(kind, text),
    busy: (on) => setState(on ? "working" : "password"),
    done,
    fatal: (e) => failedWith(e, "approval.password"),
  });
  show("password", form);
}

function done(d: DoneView): void {
  say("ok", t("done.set"));
  show(
    "done",
    d.directories.length > 1 &&
      h(
        "div",
        { class: "directories" },
        h("p", { class: "label" }, t("done.where")),
        h("ul", { class: "reasons" }, ...d.directories.map((x) => h("li", { class: x.ok ? "reason-ok" : "reason-bad" }, h("span", { class: "reason-mark", "aria-hidden": "true" }, x.ok ? "✓" : "✗"), x.directory))),
      ),
    h("p", { class: "muted center", id: "reference" }, t("done.reference", { reference: d.reference })),
    closing(),
  );
}

void open();
