// CSRF policy for GraphQL over HTTP. Apollo refuses requests that a browser would send
// cross-site without a CORS preflight (they could ride on ambient credentials). Parley's only
// credential is a bearer Authorization header, which always takes a preflight, so a request that
// carries one is safe: urql sends short queries as GET with it by default.
import type { RequestHandler } from 'express';

/** Apollo's recommended headers, and the one our auth needs: any of them means "preflighted". */
export const CSRF_SAFE_HEADERS: readonly string[] = [
  'x-apollo-operation-name',
  'apollo-require-preflight',
  'authorization',
];

const PREFLIGHTED_CONTENT_TYPE =
  /^(?!application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)/i;

/**
 * A GET with no token and nothing that forces a preflight is still refused, unexecuted, but as
 * what it is to a signed-out client (urql asking `me` before sign-in): UNAUTHENTICATED, not
 * Apollo's CSRF error.
 */
export const tokenlessGetNeedsSignIn: RequestHandler = (req, res, next) => {
  if (req.method !== 'GET') return next();
  const contentType = req.headers['content-type'];
  if (contentType && PREFLIGHTED_CONTENT_TYPE.test(contentType)) return next();
  if (CSRF_SAFE_HEADERS.some((h) => req.headers[h])) return next();
  res.status(200).json({
    errors: [
      {
        message:
          'Sign in first: a GET request needs "Authorization: Bearer <token>" (without one, send the operation by POST with content-type application/json).',
        extensions: { code: 'UNAUTHENTICATED' },
      },
    ],
  });
};
