// What a screen reader is told without the focus moving: a code sent, a wrong code, the
// approval number, the idle warning, the password's reasons. Two regions in index.html,
// outside #app, so they stand before anything is said in them and survive a screen's
// redraw; each thing is said once, when it changes, never by redrawing a screen.

/** Says `text` (`urgent`: at once, interrupting; else when the reader is free). */
export function announce(text: string, urgent = false): void {
  const region = document.getElementById(urgent ? "live-alert" : "live-status");
  if (!region || !text) return;
  // Emptied first, filled a moment later: the same words said again (a second wrong code)
  // are a change the reader announces again.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}
