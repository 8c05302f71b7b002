// What a log line keeps of an error: the kind, a message without values, the SQLSTATE and the
// statement's text, never its parameters (drizzle, postgres.js and PGlite each carry them), nor a
// PostgreSQL error's `detail` (which quotes a failing row), nor credentials.
import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger, safeError } from '../../src/logger.js';

const BODY = 'MARKER-secret-body';

/** A database error as drizzle throws it, around one as postgres.js throws it. */
function databaseError(): DrizzleQueryError {
  const cause = Object.assign(new Error(`invalid input syntax for type uuid: "${BODY}"`), {
    name: 'PostgresError',
    code: '22P02',
    severity: 'ERROR',
    detail: `Failing row contains (1, ${BODY}).`,
    where: `unnamed portal parameter $3 = '${BODY}'`,
    table_name: 'messages',
    query: 'select parley_send_message($1, $2, $3)',
    parameters: ['a', 'b', BODY],
    args: ['a', 'b', BODY],
  });
  return new DrizzleQueryError(
    "insert into messages (body, note) values ($1, 'literal')",
    ['a', BODY],
    cause,
  );
}

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('safeError', () => {
  it('keeps the kind, code and statement of a database error, and none of its values', () => {
    const safe = safeError(databaseError());
    expect(JSON.stringify(safe)).not.toContain(BODY);
    expect(safe).toMatchObject({
      type: 'DrizzleQueryError',
      message: 'Failed query',
      query: "insert into messages (body, note) values ($1, '?')",
      cause: {
        type: 'PostgresError',
        code: '22P02',
        severity: 'ERROR',
        table: 'messages',
        message: 'invalid input syntax for type uuid: "[value omitted]"',
      },
    });
    expect(safe.stack).toMatch(/^\s+at /);
  });

  it('looks through a GraphQLError to what the resolver threw', () => {
    const wrapped = new GraphQLError(databaseError().message, { originalError: databaseError() });
    const safe = safeError(wrapped);
    expect(JSON.stringify(safe)).not.toContain(BODY);
    expect(safe.cause?.type).toBe('DrizzleQueryError');
  });

  it('cuts the parameters out of an error already turned into text', () => {
    expect(safeError(String(databaseError())).message).toBe(
      "Error: Failed query: insert into messages (body, note) values ($1, 'literal') [parameters omitted]",
    );
  });
});

describe('createLogger', () => {
  it('logs database errors under any key, as the only argument or as text, without values', () => {
    const out = capture();
    const log = createLogger('debug', out.stream);
    const err = databaseError();
    log.error({ err }, 'send failed');
    log.error(err);
    log.warn({ failure: err, count: 1 }, 'publish failed');
    log.warn(`Unexpected error processing request: ${String(err)}`);
    log.child({ component: 'apollo' }).error(err);
    const lines = out.lines();
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(JSON.stringify(line)).not.toContain(BODY);
    expect(lines[0]).toMatchObject({ msg: 'send failed', err: { cause: { code: '22P02' } } });
    expect(lines[1]).toMatchObject({ msg: 'Failed query', err: { type: 'DrizzleQueryError' } });
    expect(lines[2]).toMatchObject({ failure: { type: 'DrizzleQueryError' }, count: 1 });
  });

  it('never writes tokens, connection_init payloads, variables or passwords', () => {
    const out = capture();
    const log = createLogger('debug', out.stream);
    log.info({
      req: { headers: { authorization: `Bearer ${BODY}` } },
      headers: { authorization: `Bearer ${BODY}` },
      connectionParams: { authorization: `Bearer ${BODY}` },
      payload: { variables: { input: { body: BODY } } },
      input: { password: BODY, token: BODY },
    });
    expect(out.lines()).toHaveLength(1);
    expect(JSON.stringify(out.lines())).not.toContain(BODY);
  });
});
