// The console's build: React through Vite into web/dist, which `npm start` serves at `/`.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Small SVGs would otherwise be inlined as data: URLs; keep every asset a file under /assets/.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev:web`: the console with hot reload, its /v1 calls sent to a Keysmith on :8080.
    proxy: { '/v1': 'http://127.0.0.1:8080' },
  },
});
