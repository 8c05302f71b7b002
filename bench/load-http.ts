// Load generator (its own process): autocannon against Parley's HTTP API.
// argv[2] is a JSON job: { url, mode: 'send' | 'history' | 'lag', connections, seconds, work: [...], overallRate? }.
// 'lag' sends like 'send', with the send time in the body (see sent-at.ts), and also reports the
// seq of every acknowledged message and when the last acknowledgement arrived. With `waitForGo`
// it says { ready: true } over IPC and starts on the next message, so that several load
// processes start together.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { bodyWithSentAt } from './sent-at.js';

interface Job {
  url: string;
  mode: 'send' | 'history' | 'lag';
  connections: number;
  seconds: number;
  /** One entry per conversation: the token of a member and the conversation id. */
  work: { token: string; conversationId: string }[];
  waitForGo?: boolean;
  /** Requests per second over all connections (a load below saturation, for its latency); unset: as fast as answered. */
  overallRate?: number;
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Job;
const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }';
const HISTORY =
  'query($id: ID!) { messages(conversationId: $id, last: 50) { edges { cursor node { id seq body createdAt sender { id } } } pageInfo { hasPreviousPage startCursor } } }';

if (job.waitForGo) {
  const go = new Promise((resolve) => process.once('message', resolve));
  process.send!({ ready: true });
  await go;
  process.disconnect();
}

let next = 0;
let graphqlErrors = 0;
const acked: number[] = [];
let lastAckAt = 0;
const startedAt = Date.now();
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.seconds,
  ...(job.overallRate ? { overallRate: job.overallRate } : {}),
  requests: [
    {
      method: 'POST',
      path: '/graphql',
      setupRequest: (req) => {
        const w = job.work[next++ % job.work.length]!;
        const body =
          job.mode === 'history'
            ? { query: HISTORY, variables: { id: w.conversationId } }
            : {
                query: SEND,
                variables: {
                  i: {
                    conversationId: w.conversationId,
                    body: job.mode === 'lag' ? bodyWithSentAt(Date.now()) : `bench ${next}`,
                    clientMessageId: randomUUID(),
                  },
                },
              };
        return {
          ...req,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${w.token}` },
          body: JSON.stringify(body),
        };
      },
      onResponse: (status, body) => {
        if (status !== 200 || body.includes('"errors"')) graphqlErrors++;
        else if (job.mode === 'lag') {
          const { data } = JSON.parse(body) as { data: { sendMessage: { seq: number } } };
          acked.push(data.sendMessage.seq);
          lastAckAt = Date.now();
        }
      },
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    perSecond: result.requests.total / job.seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + graphqlErrors,
    ...(job.mode === 'lag' ? { acked, startedAt, lastAckAt } : {}),
  }) + '\n',
);
