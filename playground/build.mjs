// Builds the playground into dist/: index.html, app.js, app.css (relative paths,
// served by Reel at /playground/), and GraphiQL into dist/graphiql/ (served at
// /graphiql, no CDN). `node build.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, 'dist');
const watch = process.argv.includes('--watch');

const copyHtml = {
  name: 'copy-html',
  setup(build) {
    build.onEnd(async (result) => {
      if (result.errors.length === 0) {
        await copyFile(join(root, 'src/index.html'), join(out, 'index.html'));
        await copyFile(join(root, 'src/graphiql/index.html'), join(out, 'graphiql/index.html'));
        if (watch) console.log(`[${new Date().toLocaleTimeString()}] built dist/`);
      }
    });
  },
};

const options = {
  absWorkingDir: root,
  // main.js imports style.css, so esbuild writes app.css next to app.js.
  entryPoints: { app: 'src/main.js', 'graphiql/graphiql': 'src/graphiql/main.js' },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
  minify: !watch,
  sourcemap: watch, // dist/ is served (and may be embedded) as is: no maps in release builds
  legalComments: 'eof',
  logLevel: 'info',
  define: { 'process.env.NODE_ENV': watch ? '"development"' : '"production"' },
  plugins: [copyHtml],
};

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'graphiql'), { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('watching src/ …');
} else {
  await esbuild.build(options);
}
