// The organisation's colour, kept readable: text on it in white or near-black, whichever
// reads at 4.5:1 (WCAG relative luminance), and the colour used as text on white only
// when it reads there (else the ink). The phone pages do the same (web/src/common.ts).

/** The colour's relative luminance (0 black … 1 white); null for what isn't #rgb[a] / #rrggbb[aa]. */
export function luminance(hex: string): number | null {
  const m = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(hex);
  if (!m) return null;
  const digits = m[1].length <= 4 ? [...m[1].slice(0, 3)].map((c) => c + c) : [m[1].slice(0, 2), m[1].slice(2, 4), m[1].slice(4, 6)];
  const [r, g, b] = digits.map((d) => {
    const v = parseInt(d, 16) / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function applyAccent(accent: string): void {
  const l = luminance(accent);
  if (l === null) return;
  const root = document.documentElement.style;
  // Contrast with white is 1.05 / (l + 0.05).
  const whiteReads = 1.05 / (l + 0.05) >= 4.5;
  root.setProperty("--accent", accent);
  root.setProperty("--on-accent", whiteReads ? "#ffffff" : "#111418");
  root.setProperty("--accent-text", whiteReads ? accent : "#1b2330");
}
