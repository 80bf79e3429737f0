// A flow's progress, for the screens that verify a method (verify.ts, approve.ts): the step
// dots, and where a verified method leads.
import type { App } from "../app";
import type { FlowView } from "../../../shared/wire";
import { h } from "../dom";
import { t } from "../i18n";

export function step(flow: FlowView): HTMLElement | null {
  if (flow.required < 2) return null;
  return h(
    "p",
    { class: "step", "aria-label": t("verify.step", { done: flow.done + 1, required: flow.required }) },
    ...Array.from({ length: flow.required }, (_, i) =>
      h("span", { class: `dot${i < flow.done ? " dot-done" : i === flow.done ? " dot-now" : ""}`, "aria-hidden": "true" }),
    ),
    h("span", {}, t("verify.step", { done: Math.min(flow.done + 1, flow.required), required: flow.required })),
  );
}

/** After a successful verification: the next method, or the last step. */
export function afterVerified(app: App, flow: FlowView): void {
  app.flow = flow;
  app.challenge = null;
  if (flow.state !== "verified") {
    app.go({ name: "verify" });
  } else if (app.intent === "unlock" && flow.unlock_allowed) {
    app.go({ name: "unlock" });
  } else {
    app.go({ name: "password" });
  }
}
