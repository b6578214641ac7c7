import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The messenger's build: the page (Preact) and its Web Worker (the SDK and all MLS work) as
 * content-hashed files under dist/assets, served by courier-server at /. The SDK's Node-only
 * transports (ws, the relay tunnel's TLS) are loaded lazily and never run in a browser.
 */
export default defineConfig({
  // JSX for Preact by Vite's own transform (no Babel): `h`/`jsx` from preact/jsx-runtime.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: false,
    modulePreload: { polyfill: false },
    rollupOptions: {
      // Two pages: the messenger, and the public transparency page (its own small bundle: no SDK, no worker).
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        transparency: fileURLToPath(new URL('transparency.html', import.meta.url)),
      },
      external: ['ws', /^node:/],
      checks: { bundlerTimings: false },
    },
  },
  worker: {
    format: 'es',
    rollupOptions: { external: ['ws', /^node:/] },
  },
});
