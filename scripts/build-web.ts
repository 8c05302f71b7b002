// Builds the browser pages (web/ → web/dist) when the build is missing or stale: `npm start`
// runs this first (prestart), the test setup too, `npm run build:web` forces it. Stale means the
// inputs' hash (web sources, the client, the schema, the lockfile) differs from the one the build recorded.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'web', 'dist');
const stampFile = path.join(dist, '.inputs-sha256');
const INPUTS = [
  'web/src',
  'web/index.html',
  'web/graphiql.html',
  'web/playground.html',
  'web/vite.config.ts',
  'client/src',
];
// GraphQL Playground ships prebuilt in graphql-playground-react (a dev dependency, its version in
// the lockfile): its bundle and stylesheet are copied as they are into web/dist/playground.
const PLAYGROUND_BUILD = path.join(root, 'node_modules', 'graphql-playground-react', 'build');
const PLAYGROUND_FILES = {
  'static/js/middleware.js': 'middleware.js',
  'static/css/index.css': 'index.css',
};
const OUTPUTS = [
  'index.html',
  'graphiql.html',
  'playground.html',
  ...Object.values(PLAYGROUND_FILES).map((file) => `playground/${file}`),
];

function filesUnder(relative: string): string[] {
  const full = path.join(root, relative);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full)
    .sort()
    .flatMap((name) => filesUnder(path.join(relative, name)));
}

function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of [...INPUTS.flatMap(filesUnder), 'package-lock.json']) {
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(root, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

function isFresh(hash: string): boolean {
  return (
    OUTPUTS.every((file) => existsSync(path.join(dist, file))) &&
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8').trim() === hash
  );
}

export type WebBuildOutcome = 'fresh' | 'built' | 'no-vite';

/** Builds web/dist unless it is up to date; throws if the build fails. */
export function ensureWebBuild(opts: { force?: boolean; quiet?: boolean } = {}): WebBuildOutcome {
  const hash = inputsHash();
  if (!opts.force && isFresh(hash)) return 'fresh';
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) {
    // `npm ci --omit=dev` (production): no build tools. The pages are off there by default; the
    // server explains what to do if they are turned on.
    return 'no-vite';
  }
  const started = Date.now();
  if (!opts.quiet) console.log('Building the browser pages (web/ → web/dist)…');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts'], {
    cwd: root,
    stdio: opts.quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(
      `vite build failed (exit ${result.status}):\n${result.stdout ?? ''}${result.stderr ?? ''}`,
    );
  }
  mkdirSync(path.join(dist, 'playground'), { recursive: true });
  for (const [from, to] of Object.entries(PLAYGROUND_FILES)) {
    copyFileSync(path.join(PLAYGROUND_BUILD, from), path.join(dist, 'playground', to));
  }
  writeFileSync(stampFile, `${hash}\n`);
  if (!opts.quiet)
    console.log(`Built web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return 'built';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const outcome = ensureWebBuild({ force: process.argv.includes('--force') });
    if (outcome === 'no-vite') {
      console.log('vite is not installed (npm ci --omit=dev?): the browser pages are not built.');
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
