// JSON logs (pino) that never hold message bodies, tokens or passwords (the README promises it).
// Database errors are the hard part: drizzle's DrizzleQueryError puts every query parameter (a
// sent message's body among them) into its message ("Failed query: …\nparams: …") and keeps
// them as `.params`; postgres.js errors keep `query`/`parameters`/`args`, PGlite's
// `query`/`params`, and a PostgreSQL error's `detail` quotes the values of a failing row or key.
// So every error that reaches a log goes through safeError: an allow-list of fields, never a copy.
import { pino, type DestinationStream, type LogFn, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** What a log line keeps of an error. */
export interface SafeError {
  type: string;
  message: string;
  /** SQLSTATE, or a driver's / Node's code (ECONNREFUSED, CONNECTION_CLOSED). */
  code?: string;
  severity?: string;
  constraint?: string;
  table?: string;
  column?: string;
  /** The statement's text, its literals blanked: the values travel as parameters, never here. */
  query?: string;
  /** Stack frames only: a stack's first line repeats the unsafe message. */
  stack?: string;
  cause?: SafeError;
  errors?: SafeError[];
}

const MAX_MESSAGE = 500;
const MAX_QUERY = 1_000;
const MAX_DEPTH = 4;

/**
 * A text that may hold a database error's message, without what follows `params:` (drizzle's
 * rendering of the parameters), cut to a bounded length.
 */
export function safeText(text: string, max = MAX_MESSAGE): string {
  const params = text.search(/\n?\bparams: /);
  const kept = params === -1 ? text : `${text.slice(0, params)} [parameters omitted]`;
  return kept.length > max ? `${kept.slice(0, max)}…` : kept;
}

function stringField(source: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = source[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function blankLiterals(query: string): string {
  const blanked = query.replace(/'(?:[^']|'')*'/g, "'?'");
  return blanked.length > MAX_QUERY ? `${blanked.slice(0, MAX_QUERY)}…` : blanked;
}

/** Any thrown value as a SafeError; unknown fields (parameters, detail, where) are left out. */
export function safeError(err: unknown, depth = 0): SafeError {
  if (typeof err !== 'object' || err === null) {
    return { type: typeof err, message: safeText(String(err)) };
  }
  const source = err as Record<string, unknown>;
  // drizzle's DrizzleQueryError keeps the name "Error" and pg-protocol's DatabaseError "error":
  // the class says more.
  const ctor = (err as object).constructor?.name;
  const type =
    ctor && ctor !== 'Error' && ctor !== 'Object'
      ? ctor
      : (stringField(source, 'name', 'type') ?? ctor ?? 'Object');
  const code = stringField(source, 'code');
  const isSqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
  const query = stringField(source, 'query');
  let message = stringField(source, 'message') ?? '';
  // drizzle: "Failed query: <statement>\nparams: <values>"; the statement is kept as `query`.
  if (query !== undefined && message.startsWith('Failed query:')) message = 'Failed query';
  // PostgreSQL quotes an offending value after a colon ('invalid input syntax for type uuid:
  // "…"'); identifiers it names ('constraint "x"') are not preceded by one.
  if (isSqlState) message = message.replace(/:\s*".*$/s, ': "[value omitted]"');
  const safe: SafeError = { type, message: safeText(message) };
  if (code !== undefined) safe.code = code;
  const severity = stringField(source, 'severity');
  if (severity !== undefined) safe.severity = severity;
  const constraint = stringField(source, 'constraint_name', 'constraint');
  if (constraint !== undefined) safe.constraint = constraint;
  const table = stringField(source, 'table_name', 'table');
  if (table !== undefined) safe.table = table;
  const column = stringField(source, 'column_name', 'column');
  if (column !== undefined) safe.column = column;
  if (query !== undefined) safe.query = blankLiterals(query);
  const stack = stringField(source, 'stack');
  if (stack !== undefined) {
    const frames = stack.split('\n').filter((line) => /^\s+at /.test(line));
    if (frames.length > 0) safe.stack = frames.join('\n');
  }
  if (depth < MAX_DEPTH) {
    // GraphQLError keeps what a resolver threw as originalError.
    const cause = source['cause'] ?? source['originalError'];
    if (cause !== undefined && cause !== null && cause !== err) {
      safe.cause = safeError(cause, depth + 1);
    }
    const errors = source['errors'];
    if (Array.isArray(errors) && errors.length > 0) {
      safe.errors = errors.slice(0, 5).map((e: unknown) => safeError(e, depth + 1));
    }
  }
  return safe;
}

function safeArg(arg: unknown): unknown {
  if (typeof arg === 'string') return safeText(arg, 2_000);
  if (arg instanceof Error) return safeError(arg).message;
  return arg;
}

// pino takes a logged error's own message as the line's `msg` when none is given, and formats
// further arguments into it: both are made safe before pino sees them.
const logMethod = function (this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const [first, ...rest] = args as unknown[];
  const restSafe = rest.map(safeArg);
  if (first instanceof Error) {
    const message = typeof restSafe[0] === 'string' ? restSafe.shift() : safeError(first).message;
    method.apply(this, [{ err: first }, message, ...restSafe] as Parameters<LogFn>);
    return;
  }
  if (typeof first === 'object' && first !== null && typeof restSafe[0] !== 'string') {
    const err = (first as { err?: unknown }).err;
    if (err instanceof Error) {
      method.apply(this, [first, safeError(err).message, ...restSafe] as Parameters<LogFn>);
      return;
    }
  }
  method.apply(this, [safeArg(first), ...restSafe] as Parameters<LogFn>);
};

function serializeErr(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? safeError(value) : safeArg(value);
}

/** Logs to stdout, or to `destination` (tests read what would be written). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'parley' },
    serializers: { err: serializeErr, error: serializeErr, cause: serializeErr },
    formatters: {
      // An error logged under any other key gets the same treatment as `err`.
      log: (entry) => {
        let safe: Record<string, unknown> | undefined;
        for (const [key, value] of Object.entries(entry)) {
          if (value instanceof Error) (safe ??= { ...entry })[key] = safeError(value);
        }
        return safe ?? entry;
      },
    },
    hooks: { logMethod },
    // Never log credentials, even at debug level: the Authorization header, a WebSocket's
    // connection_init payload, or a GraphQL request's variables (passwords, message bodies).
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.headers.authorization',
        'authorization',
        '*.authorization',
        'connectionParams',
        '*.connectionParams',
        'variables',
        '*.variables',
        'password',
        '*.password',
        'token',
        '*.token',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
