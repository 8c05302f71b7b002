// The cursor of a message stream (`Message.streamCursor`): where the stream stood after an event,
// so that `after: streamCursor` resumes right behind it. A stream of one conversation stands at
// one position. A stream of all of a user's conversations stands at a position per conversation:
// its cursor names a saved set of positions (a "base", table stream_bases) and carries only the
// conversations that moved since, so it stays small however many conversations the user has.
//
// Positions are message seqs for messageAdded and change positions for messageUpdated; both are
// gap-free and in commit order per conversation, which is what makes "everything after" exact.
//
// Binary, then base64url: kind (1 byte: 'a' added, 'u' updated), flags (1: has a base), the
// base id (16 bytes), then per conversation its id (16 bytes) and position (LEB128).
import { badInput } from '../errors.js';

export type StreamKind = 'added' | 'updated';

export interface StreamCursor {
  readonly kind: StreamKind;
  /** The saved positions it builds on; null for a stream of one conversation. */
  readonly baseId: string | null;
  /** Positions that differ from the base's (for one conversation: its position). */
  readonly positions: ReadonlyMap<string, number>;
}

const KIND_BYTE: Record<StreamKind, number> = { added: 0x61, updated: 0x75 };
const HAS_BASE = 1;
/** Cursors longer than this are not ours (the delta is rebased long before). */
export const MAX_CURSOR_LENGTH = 8_000;
const MAX_POSITION = 2_147_483_647;

const uuidBytes = (id: string) => Buffer.from(id.replaceAll('-', ''), 'hex');
const uuidText = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export function encodeStreamCursor(cursor: StreamCursor): string {
  const parts: Buffer[] = [
    Buffer.from([KIND_BYTE[cursor.kind], cursor.baseId === null ? 0 : HAS_BASE]),
  ];
  if (cursor.baseId !== null) parts.push(uuidBytes(cursor.baseId));
  for (const [id, position] of cursor.positions) {
    parts.push(uuidBytes(id));
    const bytes: number[] = [];
    let n = position;
    do {
      bytes.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    parts.push(Buffer.from(bytes));
  }
  return Buffer.concat(parts).toString('base64url');
}

const invalid = (field: string) =>
  badInput(
    `"${field}" is not a stream cursor returned by this API; pass the streamCursor of the last event received.`,
    field,
  );

export function decodeStreamCursor(text: string, field = 'after'): StreamCursor {
  if (text.length < 3 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw invalid(field);
  }
  const b = Buffer.from(text, 'base64url');
  const kind = b[0] === KIND_BYTE.added ? 'added' : b[0] === KIND_BYTE.updated ? 'updated' : null;
  const flags = b[1];
  if (kind === null || (flags !== 0 && flags !== HAS_BASE)) throw invalid(field);
  let at = 2;
  let baseId: string | null = null;
  if (flags === HAS_BASE) {
    if (b.length < at + 16) throw invalid(field);
    baseId = uuidText(b.subarray(at, at + 16));
    at += 16;
  }
  const positions = new Map<string, number>();
  while (at < b.length) {
    if (b.length < at + 17) throw invalid(field);
    const id = uuidText(b.subarray(at, at + 16));
    at += 16;
    let position = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const byte = b[at++];
      if (byte === undefined || i > 4) throw invalid(field);
      position += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) break;
    }
    if (position > MAX_POSITION || positions.has(id)) throw invalid(field);
    positions.set(id, position);
  }
  if (baseId === null && positions.size !== 1) throw invalid(field);
  return { kind, baseId, positions };
}

/** How long a cursor of an all-conversations stream can be resumed from (its base is kept). */
export const STREAM_CURSOR_TTL_MS = 30 * 24 * 3_600_000;

/** When the positions carried beside the base exceed this many, a new base is saved. */
export const REBASE_AFTER = 16;

/**
 * Where a stream of all conversations stands, as a cursor can name it: a saved base (when one
 * is asked for) and the positions that moved since. `rebase` saves the merged set; until it has
 * been saved the cursor keeps naming the old base, so a cursor always names a stored one.
 */
export class StreamPositions {
  private delta = new Map<string, number>();
  private saving = false;
  /** After a failed save, not before this (epoch ms). */
  private retryAt = 0;

  constructor(
    private readonly kind: StreamKind,
    private baseId: string | null,
    private base: ReadonlyMap<string, number>,
    private readonly save: (positions: ReadonlyMap<string, number>) => Promise<string>,
    delta?: ReadonlyMap<string, number>,
  ) {
    for (const [id, position] of delta ?? []) this.set(id, position);
  }

  /** The conversation's position now (after a delivered event, or where it starts). */
  set(conversationId: string, position: number): void {
    if (this.base.get(conversationId) === position) this.delta.delete(conversationId);
    else this.delta.set(conversationId, position);
    if (this.delta.size > REBASE_AFTER && this.baseId !== null && Date.now() >= this.retryAt) {
      void this.rebase();
    }
  }

  get(conversationId: string): number | undefined {
    return this.delta.get(conversationId) ?? this.base.get(conversationId);
  }

  /** The cursor of where the stream stands; null until a base is saved. */
  cursor(): string | null {
    if (this.baseId === null) return null;
    return encodeStreamCursor({ kind: this.kind, baseId: this.baseId, positions: this.delta });
  }

  /** Saves the current positions as the new base (once at a time; a failure keeps the old). */
  rebase(): Promise<void> {
    if (this.saving) return Promise.resolve();
    this.saving = true;
    const merged = new Map(this.base);
    for (const [id, position] of this.delta) merged.set(id, position);
    return this.save(merged)
      .then((id) => {
        this.baseId = id;
        this.base = merged;
        // What moved while saving stays in the delta.
        for (const [conversationId, position] of [...this.delta]) {
          if (merged.get(conversationId) === position) this.delta.delete(conversationId);
        }
      })
      .catch(() => {
        // The old base and a longer delta still describe the stream; try again a little later.
        this.retryAt = Date.now() + 5_000;
      })
      .finally(() => {
        this.saving = false;
      });
  }
}
