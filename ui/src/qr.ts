// Draws a QR code (module rows from the kiosk's qr_matrix command) on a canvas: no image
// files, no remote URLs.
import { h } from "./dom";
import { api } from "./ipc";

export async function qrCanvas(text: string, label: string, pixels = 220): Promise<HTMLElement> {
  const m = await api.qr(text);
  const quiet = 4;
  const cells = m.size + quiet * 2;
  const scale = Math.max(2, Math.floor(pixels / cells));
  const canvas = h("canvas", {
    width: cells * scale,
    height: cells * scale,
    role: "img",
    "aria-label": label,
    class: "qr",
    "data-qr": text,
  }) as HTMLCanvasElement;
  const ctx = canvas.getContext("2d");
  if (ctx) {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#000";
    m.rows.forEach((row, y) => {
      for (let x = 0; x < row.length; x++) {
        if (row[x] === "1") ctx.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
      }
    });
  }
  return canvas;
}
