import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  // Relative asset URLs so the bundle loads from Tauri's custom protocol.
  base: './',
  // Tauri's CLI prints its own output; keep Vite's visible alongside it.
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
  },
  build: {
    // WebKitGTK on older Linux distributions lags behind evergreen browsers.
    target: 'es2021',
    outDir: 'dist',
    emptyOutDir: true,
  },
  resolve: {
    alias: {
      $lib: src('lib'),
      $components: src('components'),
    },
    // Tests run in Node; the browser build of Svelte is the one with
    // reactive runes outside components, which is what the logic modules use.
    conditions: mode === 'test' ? ['browser'] : undefined,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
}));
