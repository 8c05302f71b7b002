// Posts to push services and webhook endpoints: a deadline on every call, and (unless
// ALLOW_PRIVATE_ENDPOINTS) no connection to loopback, private or link-local addresses, checked
// on the address actually dialled, so a DNS name that points inside is refused too (SSRF).
import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

export interface PostResult {
  /** The HTTP status; undefined when no answer came (refused, reset, timed out, filtered). */
  status: number | undefined;
  /** Why no answer came (no request data in it). */
  error?: string;
}

export interface Poster {
  post(url: string, headers: Record<string, string>, body: Buffer | string): Promise<PostResult>;
  close(): void;
}

export function createPoster(opts: { allowPrivate: boolean; timeoutMs: number }): Poster {
  const agentOptions = { keepAlive: true, maxSockets: 16, timeout: opts.timeoutMs };
  const httpAgent = opts.allowPrivate
    ? new http.Agent(agentOptions)
    : new RequestFilteringHttpAgent(agentOptions);
  const httpsAgent = opts.allowPrivate
    ? new https.Agent(agentOptions)
    : new RequestFilteringHttpsAgent(agentOptions);
  return {
    post(url, headers, body) {
      return new Promise<PostResult>((resolve) => {
        const target = new URL(url);
        const secure = target.protocol === 'https:';
        const request = (secure ? https : http).request(
          target,
          {
            method: 'POST',
            headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
            agent: secure ? httpsAgent : httpAgent,
            timeout: opts.timeoutMs,
          },
          (response) => {
            response.resume(); // the answer's body is not needed
            response.on('end', () => resolve({ status: response.statusCode }));
            response.on('error', () => resolve({ status: response.statusCode }));
          },
        );
        request.on('timeout', () =>
          request.destroy(new Error(`no answer in ${opts.timeoutMs} ms`)),
        );
        request.on('error', (err) => resolve({ status: undefined, error: err.message }));
        request.end(body);
      });
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
