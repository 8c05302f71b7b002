// The in-process bus: every local listener of a topic gets each event, with no "memory leak"
// warning in the log when a big group has many listeners on one instance.
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/realtime/memory-bus.js';
import { topics } from '../../src/realtime/events.js';

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

describe('in-process bus', () => {
  it('delivers to 2,000 listeners of one topic without a leak warning, and stops after unsubscribe', async () => {
    process.on('warning', onWarning);
    const bus = createMemoryBus();
    const received = new Array<number>(2_000).fill(0);
    const unsubscribes = await Promise.all(
      received.map((_, i) =>
        bus.subscribe(topics.activity('group'), () => void (received[i] = received[i]! + 1)),
      ),
    );
    const event = {
      type: 'typing' as const,
      conversationId: 'group',
      userId: 'u',
      isTyping: true,
      ttlMs: 1_000,
    };
    await bus.publish(topics.activity('group'), event);
    unsubscribes.slice(0, 1_000).forEach((unsubscribe) => unsubscribe());
    await bus.publish(topics.activity('group'), event);
    await new Promise((resolve) => setImmediate(resolve));

    expect(received.slice(0, 1_000).every((n) => n === 1)).toBe(true);
    expect(received.slice(1_000).every((n) => n === 2)).toBe(true);
    expect(warnings.map((w) => w.name)).toEqual([]);
  });
});
