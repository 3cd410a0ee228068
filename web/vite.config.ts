import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // amazon-cognito-identity-js's dependencies (buffer) expect Node's `global`.
  define: { global: 'globalThis' },
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: { port: 5173, host: '127.0.0.1' },
});
