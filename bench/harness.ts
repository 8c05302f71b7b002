// What the bench's scenarios share: the log, and the load processes they fork (talked to over IPC,
// or run as one-shot jobs that print their result as the last line of JSON).
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
/** Scratch space for this run: the instances' DATA_DIR and the job files. */
export const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));

const children: ChildProcess[] = [];
const started = Date.now();

export const log = (line: string) =>
  console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);

export function child(script: string, args: string[] = []): ChildProcess {
  const c = fork(path.join(benchDir, script), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push(c);
  return c;
}

/** Starts a one-shot load process; `result` resolves with the JSON it prints before it exits. */
export function startJob<T>(
  script: string,
  job: unknown,
): { process: ChildProcess; result: Promise<T> } {
  // Jobs carry thousands of tokens: too long for argv, so they travel in a file.
  const jobFile = path.join(dataDir, `job-${randomUUID()}.json`);
  writeFileSync(jobFile, JSON.stringify(job));
  const c = child(script, [jobFile]);
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const result = new Promise<T>((resolve, reject) =>
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
    }),
  );
  return { process: c, result };
}

/** Runs a one-shot load process and returns the JSON it prints. */
export const runJob = <T>(script: string, job: unknown) => startJob<T>(script, job).result;

/** Sends `message` (if any) to a load process and resolves with its first reply that `until` accepts. */
export function ask<T>(
  c: ChildProcess,
  message: unknown,
  until: (reply: Record<string, unknown>) => boolean,
): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: unknown) => {
      if (until(reply as Record<string, unknown>)) {
        c.off('message', onMessage);
        resolve(reply as T);
      }
    };
    c.on('message', onMessage);
    if (message) c.send(message as object);
  });
}

/** Kills the load processes still running and removes the scratch space. */
export function stopChildren() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}

/** What a load-http.ts job reports. */
export interface HttpLoad {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/**
 * load-http.ts against each server at once, each with its share of the work (every n-th entry)
 * and of the rate: in `total` the counts summed and the latencies the slowest server's, in
 * `parts` what each job reported.
 */
export async function loadOverServers<T extends HttpLoad = HttpLoad>(
  servers: readonly { url: string }[],
  job: {
    mode: 'send' | 'history' | 'lag';
    connections: number;
    seconds: number;
    work: readonly { token: string; conversationId: string }[];
    overallRate?: number;
  },
): Promise<{ total: HttpLoad; parts: T[] }> {
  const parts = await Promise.all(
    servers.map((server, i) =>
      runJob<T>('load-http.ts', {
        ...job,
        url: server.url.replace('/graphql', ''),
        work: job.work.filter((_, k) => k % servers.length === i),
        ...(job.overallRate ? { overallRate: job.overallRate / servers.length } : {}),
      }),
    ),
  );
  const total = {
    requests: parts.reduce((n, p) => n + p.requests, 0),
    perSecond: parts.reduce((n, p) => n + p.perSecond, 0),
    p50: Math.max(...parts.map((p) => p.p50)),
    p99: Math.max(...parts.map((p) => p.p99)),
    errors: parts.reduce((n, p) => n + p.errors, 0),
  };
  return { total, parts };
}
