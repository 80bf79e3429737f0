import { defineConfig } from "vite";

// Tauri loads the built files from ui/dist; nothing is fetched from a network.
export default defineConfig({
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: "localhost",
    // The dev server may serve ui/ and the sources shared with the server's pages.
    fs: { allow: [".", "../shared"] },
  },
  build: {
    target: "safari15",
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    rollupOptions: {
      // bare.html is the page of the bare window the kiosk bench compares against.
      input: { main: "index.html", bare: "bare.html" },
    },
  },
});
