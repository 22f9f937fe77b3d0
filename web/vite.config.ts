import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { gzipPlugin } from './tools/gzip-plugin.ts';

// `npm run dev` proxies the API (and short links) to a running shortener, by default the one
// `./scripts/run.sh` starts; SHORTENER_URL points it elsewhere (e.g. the mock server).
const backend = process.env.SHORTENER_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), gzipPlugin()],
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // The world map's TopoJSON is fetched as a hashed asset, never inlined.
    assetsInlineLimit: 4096,
  },
  server: {
    proxy: { '/api': { target: backend, changeOrigin: false } },
  },
  preview: {
    proxy: { '/api': { target: backend, changeOrigin: false } },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
