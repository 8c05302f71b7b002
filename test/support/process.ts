// Runs Parley as a real process, the way `npm start` does, and waits for it to be healthy.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIGHT_PASSWORD_HASHING } from './hashing.js';
import { getFreePort } from './services.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartProcessOptions {
  timeoutMs?: number;
  nodeArgs?: string[];
  /**
   * Start it as a user does, with `npm start` in this folder (a copy of the project), instead of
   * `node --import tsx src/main.ts` in this checkout. npm's process group is signalled as one.
   */
  npmStartIn?: string;
}

export async function startServerProcess(
  env: Record<string, string>,
  { timeoutMs = 60_000, nodeArgs = [], npmStartIn }: StartProcessOptions = {},
): Promise<ServerProcess> {
  const port = await getFreePort();
  const [file, args] = npmStartIn
    ? ['npm', ['start', '--silent']]
    : [process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts']];
  const child = spawn(file, args, {
    cwd: npmStartIn ?? root,
    detached: npmStartIn !== undefined,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      // Tests register many users from one address; the rate-limit tests set their own.
      RATE_LIMIT_MULTIPLIER: '1000',
      ...LIGHT_PASSWORD_HASHING,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let stopping = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      // A server that dies by itself mid-test is the story of the failure that follows: tell it.
      if (!stopping && signal !== 'SIGKILL') {
        console.error(`server on port ${port} exited by itself (${code ?? signal}):\n${output}`);
      }
      resolve(code);
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`server exited with ${child.exitCode} before it was healthy:\n${output}`);
    }
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      if (npmStartIn) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
      throw new Error(`server not healthy within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `${base}/graphql`,
    port,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      stopping = true;
      if (child.exitCode === null) {
        if (npmStartIn) process.kill(-child.pid!, signal);
        else child.kill(signal);
      }
      return exited;
    },
  };
}

/** Runs the server command expecting it to fail at start; resolves with exit code and output. */
export function runFailingStart(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export async function gqlAt<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<{
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as never;
}

/** Runs an operation on a server process and returns its data, failing loudly on any error. */
export async function okAt<T>(
  server: { url: string },
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<T> {
  const res = await gqlAt<T>(server.url, query, variables, token);
  if (res.errors?.length || !res.data) {
    throw new Error(`operation failed: ${JSON.stringify(res.errors)}\n${query}`);
  }
  return res.data;
}

export interface E2eUser {
  token: string;
  id: string;
  phone: string;
}

let phoneCounter = 0;
/** Registers a user whose phone no other user of this test process has. */
export async function registerAt(server: { url: string }, name: string): Promise<E2eUser> {
  const phone = `+1555${String(process.pid % 1000).padStart(3, '0')}${String(++phoneCounter).padStart(4, '0')}`;
  const { register } = await okAt<{ register: { token: string; user: { id: string } } }>(
    server,
    `mutation($input: RegisterInput!) { register(input: $input) { token user { id } } }`,
    { input: { phone, displayName: name, password: `password-${name}` } },
  );
  return { token: register.token, id: register.user.id, phone };
}

/** Creates a group of `owner` and `members`; returns its id. */
export async function createGroupAt(
  server: { url: string },
  owner: E2eUser,
  members: readonly E2eUser[],
  title = `group ${randomUUID().slice(0, 8)}`,
): Promise<string> {
  const data = await okAt<{ createGroupConversation: { id: string } }>(
    server,
    `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
    { input: { title, memberPhones: members.map((m) => m.phone) } },
    owner.token,
  );
  return data.createGroupConversation.id;
}
