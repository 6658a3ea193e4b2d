import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard, built into dist/web and served by `retain serve` at `/` (src/server/webApp.ts).
export default defineConfig({
  root: 'web',
  base: '/',
  plugins: [react()],
  build: { outDir: '../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
