// One message of the open conversation: its reaction chips (click one to toggle yours) and a
// small emoji picker.
import { useState } from 'react';
import type { MessageFieldsFragment, MessageStatus } from '../../../client/src/index.js';

type Message = MessageFieldsFragment;

/** The emojis the picker offers (any other emoji can still arrive from other clients). */
export const PICKER_EMOJIS = ['👍', '❤️', '😂', '🎉', '😮'];

const TICKS: Record<MessageStatus, string> = { SENT: '✓', DELIVERED: '✓✓', READ: '✓✓' };

const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function MessageItem({
  message: m,
  mine,
  showSender,
  status,
  onReact,
}: {
  message: Message;
  mine: boolean;
  /** The sender's name above the body (others' messages in a group). */
  showSender: boolean;
  status: MessageStatus;
  /** Adds (`add`) or takes back one of my reactions. */
  onReact(message: Message, emoji: string, add: boolean): void;
}) {
  const [picking, setPicking] = useState(false);
  const deleted = m.body === null || m.body === undefined;
  return (
    <div className={`message ${mine ? 'mine' : 'theirs'}`} data-testid="message" data-seq={m.seq}>
      {showSender && <small>{m.sender.displayName}</small>}
      <span className="body" data-testid="message-body">
        {deleted ? <em>deleted</em> : m.body}
      </span>
      {m.reactions.length > 0 && (
        <span className="reactions">
          {m.reactions.map((r) => (
            <button
              key={r.emoji}
              type="button"
              className={`chip ${r.reactedByMe ? 'mine' : ''}`}
              data-testid="reaction-chip"
              data-emoji={r.emoji}
              data-count={r.count}
              data-mine={r.reactedByMe}
              title={r.reactedByMe ? 'Take your reaction back' : 'React with this too'}
              onClick={() => onReact(m, r.emoji, !r.reactedByMe)}
            >
              {r.emoji} <span data-testid="reaction-count">{r.count}</span>
            </button>
          ))}
        </span>
      )}
      {picking && (
        <span className="picker" data-testid="reaction-picker">
          {PICKER_EMOJIS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              data-testid="react-option"
              data-emoji={emoji}
              onClick={() => {
                setPicking(false);
                const group = m.reactions.find((r) => r.emoji === emoji);
                if (!group?.reactedByMe) onReact(m, emoji, true);
              }}
            >
              {emoji}
            </button>
          ))}
        </span>
      )}
      <span className="meta">
        {!deleted && (
          <button
            type="button"
            className="action"
            data-testid="react-button"
            title="React"
            onClick={() => setPicking((p) => !p)}
          >
            ☺+
          </button>
        )}
        {time(m.createdAt)}
        {mine && (
          <span
            className={`ticks ${status.toLowerCase()}`}
            data-testid="ticks"
            data-status={status}
            title={status.toLowerCase()}
          >
            {TICKS[status]}
          </span>
        )}
      </span>
    </div>
  );
}
