// Fails when the committed generated files differ from what `npm run codegen` would write now
// (schema.graphql or client/operations changed without regenerating). Generates into a temporary
// folder, formats it like `npm run codegen` does, and compares file by file. The Relay artifacts
// of test/relay (relay.config.json) are checked by relay-compiler itself (--validate).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GENERATED = ['src/graphql/__generated__', 'client/src/gql'];

function run(command: string, args: string[], env: Record<string, string> = {}): void {
  const result = spawnSync(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`${[command, ...args].join(' ')} failed:\n${result.stdout}${result.stderr}`);
  }
}

const filesIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
        .sort()
    : [];

const out = mkdtempSync(path.join(os.tmpdir(), 'parley-codegen-'));
try {
  const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
  run(bin('graphql-codegen'), ['--config', 'codegen.ts', '--silent'], { CODEGEN_OUT_DIR: out });
  run(bin('prettier'), [
    '--config',
    path.join(root, '.prettierrc.json'),
    '--write',
    ...GENERATED.map((d) => path.join(out, d)),
  ]);
  const stale: string[] = [];
  for (const dir of GENERATED) {
    const fresh = path.join(out, dir);
    const committed = path.join(root, dir);
    for (const file of new Set([...filesIn(fresh), ...filesIn(committed)])) {
      const a = path.join(fresh, file);
      const b = path.join(committed, file);
      if (!existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b))) {
        stale.push(path.join(dir, file));
      }
    }
  }
  const relay = spawnSync(bin('relay-compiler'), ['--validate', '--output', 'quiet-with-errors'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (relay.status !== 0) {
    stale.push(`test/relay/__generated__ (relay-compiler: ${relay.stdout}${relay.stderr})`.trim());
  }
  if (stale.length > 0) {
    console.error(
      `Generated files are stale (run "npm run codegen" and commit the result):\n` +
        stale.map((f) => `  - ${f}`).join('\n'),
    );
    process.exitCode = 1;
  } else {
    console.log(
      `Generated files are up to date (${[...GENERATED, 'test/relay/__generated__'].join(', ')}).`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
