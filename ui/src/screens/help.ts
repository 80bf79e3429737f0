import type { App } from "../app";
import type { ErrorBody } from "../../../shared/wire";
import { h } from "../dom";
import { t, type Key } from "../i18n";
import { qrCanvas } from "../qr";
import { icon } from "../icons";
import { frame } from "./chrome";

function explain(e: ErrorBody): Key {
  switch (e.code) {
    case "blocked":
      return "help.blocked";
    case "flow_expired":
      return "help.expired";
    case "unreachable":
    case "unavailable":
      return "help.unreachable";
    case "kiosk_revoked":
      return "help.revoked";
    case "not_enrolled":
      return "help.notEnrolled";
    case "directory_unavailable":
      return "help.directory";
    default:
      return "help.generic";
  }
}

/** The helpdesk link the QR code carries: the configured URL, plus the reference. */
export function helpdeskLink(url: string, reference?: string): string {
  if (!reference) return url;
  return `${url}${url.includes("?") ? "&" : "?"}ref=${encodeURIComponent(reference)}`;
}

export function help(app: App, error: ErrorBody): HTMLElement {
  const desk = app.status?.settings.helpdesk;
  const outOfService = error.code === "kiosk_revoked" || error.code === "not_enrolled";
  // Not about the person: the kiosk, or the service behind it, is what failed.
  // "unavailable": the server answered, but can't reach its database for a moment.
  const serviceAway = error.code === "unreachable" || error.code === "unavailable";
  const notYou = outOfService || serviceAway;
  const heading = notYou ? t(explain(error)) : t("help.heading");
  const lines: (HTMLElement | null)[] = [];
  if (!notYou) lines.push(h("p", { class: "lead" }, t(explain(error))));
  if (serviceAway) {
    // Before the first answer (starting up) the kiosk tries again by itself (main.ts).
    lines.push(
      h(
        "p",
        { class: "lead" },
        t(app.status ? "help.unreachableLater" : app.loginScreen ? "help.unreachableBack" : "help.unreachableRetrying"),
      ),
    );
  }
  if (error.code === "blocked" && error.retry_after_secs) {
    lines.push(h("p", {}, t("help.blockedUntil", { hours: Math.max(1, Math.round(error.retry_after_secs / 3600)) })));
  }

  const qrSlot = h("div", { class: "qr-slot" });
  if (desk?.url) {
    const link = helpdeskLink(desk.url, error.reference);
    void qrCanvas(link, t("help.scan")).then((c) => qrSlot.replaceChildren(c, h("p", { class: "muted" }, t("help.scan"))));
  }
  // Nothing known to show (the settings never arrived): no empty "helpdesk" heading.
  const anyContact = Boolean(desk?.url || desk?.phone || desk?.email || error.reference);
  const contact = !anyContact
    ? null
    : h(
    "div",
    { class: "helpdesk" },
    h(
      "div",
      { class: "helpdesk-text" },
      h("p", { class: "label" }, t("help.contact")),
      desk?.url ? h("p", { class: "helpdesk-url", id: "helpdesk-url" }, desk.url) : null,
      desk?.phone ? h("p", { class: "helpdesk-phone" }, t("help.phone", { phone: desk.phone })) : null,
      desk?.email ? h("p", { class: "helpdesk-email" }, desk.email) : null,
      error.reference
        ? h(
            "div",
            { class: "reference" },
            h("p", { class: "label" }, t("help.reference")),
            h("p", { class: "reference-code", id: "reference" }, error.reference),
            h("p", { class: "muted" }, t("help.referenceHint")),
          )
        : null,
    ),
    qrSlot,
  );
  const retry =
    error.code === "unreachable" || error.code === "not_enrolled" || error.code === "kiosk_revoked"
      ? h("button", { type: "button", class: "btn btn-primary", onclick: () => location.reload() }, t("help.retry"))
      : h("button", { type: "button", class: "btn btn-primary", onclick: () => app.restart() }, t("common.startOver"));
  return frame(
    app,
    h(
      "section",
      { class: "card card-wide", id: "help", "data-error": error.code },
      h("div", { class: "big-icon warn", "aria-hidden": "true" }, icon("alert")),
      h("h1", { tabindex: -1 }, heading),
      ...lines,
      contact,
      h("div", { class: "actions" }, retry),
    ),
    // From the login screen there is always a way back to sign in.
    { languages: outOfService, cancel: app.loginScreen },
  );
}
