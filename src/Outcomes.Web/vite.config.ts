import { defineConfig } from "vite";

// Served by the API at /app (same origin: no CORS). The API's dev server is the proxy target of `npm run dev`.
export default defineConfig({
  base: "/app/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false },
  server: { proxy: { "/api": "http://localhost:5293", "/fhir": "http://localhost:5293" } },
});
