import { defineConfig } from 'vite';

/**
 * The legal desk's build (Preact, like packages/web): one page and its content-hashed assets under
 * dist/assets, served by courier-server at /desk and /desk/assets. No SDK, no worker: the desk
 * talks only to /desk/v1 and reads the public log under /v1/transparency.
 */
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  base: '/desk/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: false,
    modulePreload: { polyfill: false },
    rollupOptions: { checks: { bundlerTimings: false } },
  },
});
