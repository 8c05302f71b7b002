// One message of the open conversation: the message it answers (quoted above its body), its
// reaction chips (click one to toggle yours), a small emoji picker, a Reply action and how many
// replies it has.
import { useState } from 'react';
import type { MessageFieldsFragment, MessageStatus } from '../../../client/src/index.js';

type Message = MessageFieldsFragment;

/** The emojis the picker offers (any other emoji can still arrive from other clients). */
export const PICKER_EMOJIS = ['👍', '❤️', '😂', '🎉', '😮'];

const TICKS: Record<MessageStatus, string> = { SENT: '✓', DELIVERED: '✓✓', READ: '✓✓' };

const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** The start of a body, for quotes and the composer's reply line. */
export function excerpt(body: string, max = 80): string {
  return body.length > max ? `${body.slice(0, max - 1)}…` : body;
}

export function MessageItem({
  message: m,
  mine,
  showSender,
  status,
  onReact,
  onReply,
}: {
  message: Message;
  mine: boolean;
  /** The sender's name above the body (others' messages in a group). */
  showSender: boolean;
  status: MessageStatus;
  /** Adds (`add`) or takes back one of my reactions. */
  onReact(message: Message, emoji: string, add: boolean): void;
  onReply(message: Message): void;
}) {
  const [picking, setPicking] = useState(false);
  const deleted = m.body === null || m.body === undefined;
  const quoted = m.replyTo;
  return (
    <div className={`message ${mine ? 'mine' : 'theirs'}`} data-testid="message" data-seq={m.seq}>
      {showSender && <small>{m.sender.displayName}</small>}
      {quoted && (
        <blockquote
          className="quote"
          data-testid="reply-quote"
          data-reply-to-seq={quoted.seq}
          title="Show the message"
          onClick={(e) =>
            e.currentTarget
              .closest('[data-testid="messages"]')
              ?.querySelector(`[data-testid="message"][data-seq="${quoted.seq}"]`)
              ?.scrollIntoView({ block: 'center', behavior: 'smooth' })
          }
        >
          <strong>{quoted.sender.displayName}</strong>{' '}
          {quoted.body === null || quoted.body === undefined ? (
            <em>deleted message</em>
          ) : (
            excerpt(quoted.body)
          )}
        </blockquote>
      )}
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
        {m.replyCount > 0 && (
          <span className="reply-count" data-testid="reply-count" data-count={m.replyCount}>
            {m.replyCount === 1 ? '1 reply' : `${m.replyCount} replies`}
          </span>
        )}
        {!deleted && (
          <>
            <button
              type="button"
              className="action"
              data-testid="react-button"
              title="React"
              onClick={() => setPicking((p) => !p)}
            >
              ☺+
            </button>
            <button
              type="button"
              className="action"
              data-testid="reply-button"
              title="Reply"
              onClick={() => onReply(m)}
            >
              Reply
            </button>
          </>
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
