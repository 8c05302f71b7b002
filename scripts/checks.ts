// The static checks of `npm test`, two at a time (this machine has two cores): the type check
// beside the linter, formatter and generated-file check, which run one after the other. Each
// group's output is printed when it ends; any failure fails the whole.
import { spawn } from 'node:child_process';

const groups = [['typecheck'], ['lint', 'format:check', 'codegen:check']];

function runScript(script: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const results = await Promise.all(
  groups.map(async (scripts) => {
    for (const script of scripts) {
      const { code, output } = await runScript(script);
      process.stdout.write(`> npm run ${script}\n${output}`);
      if (code !== 0) return false;
    }
    return true;
  }),
);
process.exit(results.every(Boolean) ? 0 : 1);
