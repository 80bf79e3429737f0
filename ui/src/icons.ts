// Line icons as inline SVG (no icon font or emoji font is needed on the kiosk).
const PATHS: Record<string, string> = {
  key: "M15.5 7.5a3.5 3.5 0 1 1-3.4 4.3L4 20H2v-3l1-1h2v-2h2l1.2-1.2A3.5 3.5 0 0 1 15.5 7.5Zm1.5 2a1 1 0 1 0 0 .01",
  unlock: "M7 11V7a5 5 0 0 1 9.6-1.9M5 11h14v10H5z M12 15v2",
  mail: "M3 6h18v12H3z M3 7l9 6 9-6",
  clock: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Zm0 4v5l3 2",
  check: "M5 12.5l4.5 4.5L19 7.5",
  alert: "M12 4 2.5 20h19L12 4Zm0 6v4m0 3v.01",
  message: "M4 5h16v11H9l-5 4z M8 9h8 M8 12h5",
  call: "M6.6 3.5 9.5 3l1.6 4.2-2 1.5a11 11 0 0 0 6.2 6.2l1.5-2 4.2 1.6-.5 2.9a2 2 0 0 1-2 1.6A15.5 15.5 0 0 1 5 5.5a2 2 0 0 1 1.6-2Z",
  phone: "M8 2h8a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2Zm3 16h2",
  kiosk: "M3 4h18v12H3z M9 20h6 M12 16v4",
  globe: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Zm-9 9h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9c-2.5-2.6-3.8-5.6-3.8-9S9.5 5.6 12 3Z",
  question: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Zm-2.6 6.6a2.6 2.6 0 1 1 3.7 2.35c-.7.35-1.1.95-1.1 1.7v.35M12 17v.01",
};

export function icon(name: keyof typeof PATHS, cls = "icon"): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name]);
  svg.append(path);
  return svg;
}
