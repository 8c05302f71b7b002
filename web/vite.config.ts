// Builds the browser pages into web/dist: the demo chat (index.html, served at /), GraphiQL
// (graphiql.html, served at /graphql to browsers) and GraphQL Playground's page (playground.html,
// at /playground; scripts/build-web.ts copies the Playground bundle beside it). Everything is
// bundled or copied: no CDN at run time.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  // `npm run dev:web`: the pages with hot reload on :5173 (demo at /, GraphiQL at /graphiql.html),
  // talking to the API of `npm start` on :4000.
  server: {
    proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // GraphiQL (editor, docs explorer) is one large chunk by nature.
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      onwarn(warning, warn) {
        // graphiql's react-compiler-runtime opts out of memoisation with "use no memo"; bundled,
        // the directive is moot.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
      input: {
        demo: `${root}index.html`,
        graphiql: `${root}graphiql.html`,
        playground: `${root}playground.html`,
      },
    },
  },
});
