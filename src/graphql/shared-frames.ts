// One frame for many sockets. graphql-ws serializes every `next` message itself, once per
// subscriber, even when (shared-execution.ts) they all carry the same result object. So the
// serializer's replacer swaps that payload for a marker, remembering the payload's JSON (made
// once per result object), and the socket's send puts the JSON back in place of the marker.
// graphql-ws calls send synchronously right after serializing, so nothing runs in between; the
// legacy protocol's adapter (legacy-websocket.ts) keeps the marker as the last field of the
// `data` frame it sends instead, so the same swap serves both protocols.
import { WebSocket } from 'ws';

const PAYLOAD_MARKER = '\u0000parley-shared-payload';
const MARKED_END = `"payload":${JSON.stringify(PAYLOAD_MARKER)}}`;
const payloadJson = new WeakMap<object, string>();
let pendingPayload: string | undefined;

/** graphql-ws's jsonMessageReplacer: marks a `next` message's payload. */
export function sharePayload(this: unknown, key: string, value: unknown): unknown {
  if (
    key === 'payload' &&
    typeof value === 'object' &&
    value !== null &&
    (this as { type?: unknown }).type === 'next'
  ) {
    let json = payloadJson.get(value);
    if (json === undefined) payloadJson.set(value, (json = JSON.stringify(value)));
    pendingPayload = json;
    return PAYLOAD_MARKER;
  }
  return value;
}

/** The WebSocket class of the servers: puts the marked payload's JSON back into the frame. */
export class SharedFrameWebSocket extends WebSocket {
  override send(data: unknown, ...rest: unknown[]): void {
    const payload = pendingPayload;
    pendingPayload = undefined;
    const frame =
      payload !== undefined && typeof data === 'string' && data.endsWith(MARKED_END)
        ? `${data.slice(0, -MARKED_END.length)}"payload":${payload}}`
        : data;
    (super.send as (...args: unknown[]) => void)(frame, ...rest);
  }
}
