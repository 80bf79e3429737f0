// The kiosk's commands (src-tauri/src/commands). The webview never sees keys or flow ids.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  ChallengeView,
  Delivery,
  DoneView,
  ErrorBody,
  FlowEvent,
  FlowView,
  Intent,
  KioskSettings,
  PasswordCheck,
} from "../../shared/wire";

export type KioskStatus = {
  settings: KioskSettings;
  default_locale: string;
  idle_timeout_secs: number;
  status_refresh_secs: number;
};

/** Known before the server answers: opened from the login screen (then leaving ends it). */
export type KioskMode = { login_screen: boolean; default_locale: string };

export type QrMatrix = { size: number; rows: string[] };

/** Every failure is an ErrorBody; anything else (a bug) becomes "internal". */
export function asError(e: unknown): ErrorBody {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as ErrorBody;
  return { code: "internal", message: String(e) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asError(e);
  }
}

export const api = {
  status: () => call<KioskStatus>("kiosk_status"),
  mode: () => call<KioskMode>("kiosk_mode"),
  /** Login-screen mode: back to the greeter (the window's process ends). */
  leave: () => call<void>("leave"),
  startFlow: (login: string, intent: Intent, locale: string) =>
    call<FlowView>("start_flow", { login, intent, locale }),
  /** `byCall`: the mobile number is called and the code read out instead of texted. */
  requestCode: (methodId: string, byCall = false) => call<ChallengeView>("request_code", { methodId, call: byCall }),
  startApproval: (methodId: string, finishOnPhone: boolean) =>
    call<ChallengeView>("start_approval", { methodId, finishOnPhone }),
  stopApproval: () => call<void>("stop_approval"),
  /** What the phone does while an approval runs (the kiosk's "flow-event"). */
  onFlowEvent: async (cb: (event: FlowEvent) => void): Promise<UnlistenFn> => {
    try {
      return await listen<FlowEvent>("flow-event", (e) => cb(e.payload));
    } catch (e) {
      throw asError(e);
    }
  },
  verifyCode: (challengeId: string, code: string) =>
    call<FlowView>("verify_code", { challengeId, code }),
  /** Where sending a texted or called code stands (answers once it is known, or after a while). */
  codeDelivery: (challengeId: string) => call<Delivery | null>("code_delivery", { challengeId }),
  /** The security questions' answers, in the order they were asked. */
  answerQuestions: (challengeId: string, answers: string[]) =>
    call<FlowView>("answer_questions", { challengeId, answers }),
  checkPassword: (candidate: string) => call<PasswordCheck>("check_password", { candidate }),
  setPassword: (newPassword: string) => call<DoneView>("set_password", { newPassword }),
  unlock: () => call<DoneView>("unlock_account"),
  cancel: () => call<void>("cancel_flow"),
  wipe: () => call<void>("wipe"),
  qr: (text: string) => call<QrMatrix>("qr_matrix", { text }),
};
