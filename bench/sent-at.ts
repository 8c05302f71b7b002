// The lag scenario carries each message's send time (ms since the epoch, from the sender's clock)
// in its body, so a subscriber measures receive − send without hearing from the sender. The load
// processes run on one machine, so their clocks agree.
export const bodyWithSentAt = (ms: number) => `sent at ${ms}`;

export function sentAtOfBody(body: string | null | undefined): number | undefined {
  const match = /^sent at (\d+)$/.exec(body ?? '');
  return match ? Number(match[1]) : undefined;
}
