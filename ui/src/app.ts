// The kiosk's one piece of state and its screen switch. The server decides; this only
// remembers what to draw, and forgets it all on wipe.
import type { ChallengeView, DoneView, ErrorBody, FlowView, Intent } from "../../shared/wire";
import type { KioskStatus } from "./ipc";

export type Screen =
  | { name: "start" }
  | { name: "identify" }
  | { name: "verify" }
  /** `called`: the code of a mobile number is read out by a call, not texted. */
  | { name: "code"; called?: boolean }
  | { name: "questions" }
  | { name: "approve-choice"; methodId: string }
  | { name: "approve" }
  | { name: "phone-password" }
  | { name: "password" }
  | { name: "unlock" }
  | { name: "done"; done: DoneView }
  | { name: "help"; error: ErrorBody };

export interface App {
  status: KioskStatus | null;
  /** Opened from the login screen's button: Cancel, Done and the idle timeout go back to the greeter. */
  loginScreen: boolean;
  intent: Intent;
  login: string;
  flow: FlowView | null;
  challenge: ChallengeView | null;
  /** An error to show on the current screen, in words a person acts on. */
  notice: string | null;
  screen: Screen;
  go(screen: Screen): void;
  /** Routes an error: inline for what the person can fix, the help screen for the rest. */
  fail(e: ErrorBody): void;
  /** Runs a call with the screen marked busy (buttons disabled, "One moment…"). */
  busy<T>(work: () => Promise<T>, handle?: (e: ErrorBody) => boolean): Promise<T | undefined>;
  /** Cancels the flow and returns to Start. */
  restart(): void;
}
