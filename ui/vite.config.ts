// Builds the web UI into the Python package (served by `convoledger serve` at / and /ui/…).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  build: {
    outDir: "../src/convoledger/api/ui/static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
});
