// What a view gets from the shell (admin.ts): the session, where to draw, the fragment's
// parameters, and the shell's services (reauth, navigation, the unsaved-changes guard).
import type { ConsoleRole, ConsoleSession } from "./types";

export type ViewName =
  | "overview"
  | "insights"
  | "properties"
  | "methods"
  | "password-rules"
  | "registration"
  | "notifications"
  | "customization"
  | "directories"
  | "kiosks"
  | "audit"
  | "helpdesk";

export interface Ctx {
  readonly session: ConsoleSession;
  /** Where the view draws (the main area). */
  readonly main: HTMLElement;
  /** `#audit?login=ada` → {login: "ada"}. */
  readonly params: Record<string, string>;
  /** `#helpdesk/K7Q4-M2XD` → "K7Q4-M2XD". */
  readonly sub: string;
  has(role: ConsoleRole): boolean;
  /** The view has drawn its content: `<body data-state=view>` (tests and styles wait for it). */
  ready(): void;
  /** The view couldn't load: `<body data-state="error">`. */
  failed(): void;
  /** Still the view on screen (the person may have moved on while a request ran). */
  current(): boolean;
  /** Asks for the passkey again (a policy change wants it within 5 minutes); true when done. */
  reauth(): Promise<boolean>;
  /** While it answers true, leaving the view asks first ("Leave without saving?"). */
  guard(dirty: (() => boolean) | null): void;
  /** Moves the fragment without drawing the view again (filters kept in the URL). */
  replaceParams(params: Record<string, string>): void;
}

/** Policy pages: edited by admins, unless the policy is managed as code. */
export function canEditPolicy(ctx: Ctx, readOnly: boolean): boolean {
  return ctx.has("admin") && !readOnly && !ctx.session.policy_read_only;
}
