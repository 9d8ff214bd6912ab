import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    // Every component in this app is written with runes; forcing the mode
    // turns accidental legacy syntax into a compile error.
    runes: true,
  },
};
