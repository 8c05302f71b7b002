// Small pieces shared by the conversation list and the open conversation.
import type {
  ConversationFieldsFragment,
  PresenceStatus,
  UserFieldsFragment,
} from '../../../client/src/index.js';

type Conversation = ConversationFieldsFragment;

/** What a person typed to name an account, as the API takes it: an @ makes it an email address. */
export const identifierOf = (typed: string): { phone: string } | { email: string } =>
  typed.includes('@') ? { email: typed } : { phone: typed };

/** The other member of a direct conversation. */
export function peerOf(c: Conversation, me: UserFieldsFragment): UserFieldsFragment | undefined {
  return c.kind === 'DIRECT' ? c.members.find((m) => m.id !== me.id) : undefined;
}

export function titleOf(c: Conversation, me: UserFieldsFragment): string {
  return c.title ?? peerOf(c, me)?.displayName ?? 'Conversation';
}

export function PresenceDot({ status }: { status: PresenceStatus | undefined }) {
  return (
    <span
      data-testid="presence-dot"
      data-status={status ?? 'UNKNOWN'}
      className={`dot ${status === 'ONLINE' ? 'online' : 'offline'}`}
      title={status === 'ONLINE' ? 'online' : 'offline'}
    />
  );
}
