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
        // The media service worker (src/media/media-sw.ts): at the root under a fixed name, since
        // its URL decides its scope and the page registers it by that name.
        'media-sw': fileURLToPath(new URL('src/media/media-sw.ts', import.meta.url)),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'media-sw' ? 'media-sw.js' : 'assets/[name]-[hash].js'),
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
