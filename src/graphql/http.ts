// Apollo Server over Node's HTTP objects: what @as-integrations/express5 does, minus the
// per-request work it does not need here. Its answer goes out through Express's res.send, which
// for a body of over 1,000 characters (a page of messages is ~10 KB) copies it into a Buffer, and
// parses and reformats the content type Apollo already set with its charset; res.end sends the
// string as it is (Node sets Content-Length, as res.send would). The query string is taken from
// the URL without parsing the whole URL. It needs nothing of Express, so the common POST can be
// answered before Express sees it (src/server.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

export type GraphQLHttpHandler = (
  req: IncomingMessage & { body?: unknown },
  res: ServerResponse,
  next: (err: unknown) => void,
) => Promise<void>;

export function graphqlOverHttp<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  context: (args: { req: IncomingMessage; res: ServerResponse }) => Promise<TContext>,
): GraphQLHttpHandler {
  server.assertStarted('graphqlOverHttp()');
  return async (req, res, next) => {
    try {
      const headers = new HeaderMap();
      for (const key in req.headers) {
        const value = req.headers[key];
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = req.url ?? '';
      const query = url.indexOf('?');
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: req.method!.toUpperCase(),
          headers,
          search: query < 0 ? '' : url.slice(query),
          body: req.body,
        },
        context: () => context({ req, res }),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
        return;
      }
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (err) {
      next(err);
    }
  };
}
