// How the kiosk is drawn for the person in front of it: high contrast (black and white,
// every control edged) and larger text (1.5×). Switched at Start; kept as classes on
// <html> only, so they last while the page does and go with the person (the return to
// Start for the next person, the wipe's reload), never written to storage. A screen that
// asks the system for more contrast starts in high contrast.

export type Mode = "contrast" | "large";

const CLASS: Record<Mode, string> = { contrast: "hc", large: "large-text" };
const systemContrast = window.matchMedia?.("(prefers-contrast: more)");

export function isOn(mode: Mode): boolean {
  return document.documentElement.classList.contains(CLASS[mode]);
}

export function setMode(mode: Mode, on: boolean): void {
  document.documentElement.classList.toggle(CLASS[mode], on);
}

/** Back to how the kiosk starts: the system's contrast, the usual text size. */
export function resetModes(): void {
  setMode("contrast", systemContrast?.matches ?? false);
  setMode("large", false);
}

/** The system's wish for more contrast, now and when it changes. */
export function followSystem(): void {
  resetModes();
  systemContrast?.addEventListener("change", (e) => setMode("contrast", e.matches));
}
