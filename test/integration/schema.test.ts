// The schema a client discovers by introspection (GraphiQL's docs, codegen from a URL) is the one
// in schema.graphql: same types, fields and descriptions. A scalar from a library (DateTime from
// graphql-scalars) used to serve that library's description instead of ours.
import { readFileSync } from 'node:fs';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  printSchema,
  type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, registerUser, startApp, type TestApp } from '../support/app.js';

const sdl = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');

describe('the served schema', () => {
  let app: TestApp;
  let token: string;
  beforeAll(async () => {
    app = await startApp('pglite');
    token = (await registerUser(app)).token;
  });
  afterAll(async () => app?.close());

  it("describes DateTime with schema.graphql's words", async () => {
    const { __type } = ok(
      await app.gql<{ __type: { description: string | null } }>(
        `{ __type(name: "DateTime") { description } }`,
        {},
        token,
      ),
    );
    expect(__type.description).toBe(buildSchema(sdl).getType('DateTime')?.description);
  });

  it('is schema.graphql, descriptions included', async () => {
    const served = ok(await app.gql<IntrospectionQuery>(getIntrospectionQuery(), {}, token));
    expect(printSchema(buildClientSchema(served))).toBe(printSchema(buildSchema(sdl)));
  });
});
