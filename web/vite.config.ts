import { defineConfig } from 'vite';

// Built with `vite build web --emptyOutDir` from the repo root; served from S3/CloudFront and locally from `/`.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    target: 'es2022',
    modulePreload: { polyfill: false },
  },
});
