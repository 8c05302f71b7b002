import type DataLoader from 'dataloader';
import type { Database } from '../db/client.js';
import type { Loaders } from '../db/loaders.js';
import type { HistoryReads } from '../db/replicas.js';
import type { SendBatcher } from '../db/send-batches.js';
import type { ContactKey, DeliveryRecorder, MembershipKey } from '../db/realtime-support.js';
import type { AttachmentDeps } from './attachments.js';
import type { TokenService } from './auth.js';
import type { Events } from './events.js';
import type { Presence } from './presence.js';
import type { RateLimiter } from './rate-limits.js';
import type { MemberSets } from './streams/member-sets.js';

/** What the rules need from the outside world, built once at start. */
import type { PushSettings } from './notifications.js';

export interface Deps {
  readonly db: Database;
  /** Sends into one conversation, gathered into one commit while the previous one commits. */
  readonly sends: SendBatcher;
  /**
   * Where history pages and searches are read: a streaming replica that has replayed the
   * reader's own last write, else the primary (DATABASE_REPLICA_URLS).
   */
  readonly historyReads: HistoryReads;
  readonly tokens: TokenService;
  readonly events: Events;
  /** Current membership, batched across the subscribers handling one event. */
  readonly membership: DataLoader<MembershipKey, boolean, string>;
  /** The member sets of the conversations local streams follow (no query per event). */
  readonly memberSets: MemberSets;
  readonly deliveries: DeliveryRecorder;
  /** Current contact-ness (shares a conversation), batched and never cached. */
  readonly contacts: DataLoader<ContactKey, boolean, string>;
  readonly presence: Presence;
  readonly rateLimiter: RateLimiter;
  readonly attachments: AttachmentDeps;
  /**
   * Embedded mode outside production: requests from the machine itself are a developer's, and
   * get the looser per-address limits (registrations).
   */
  readonly localDevelopment: boolean;
  /** Observes how long a stored message took to reach a subscription (ms). */
  readonly observeDeliveryLag: (ms: number) => void;
  /** Web Push: the application key clients subscribe with, and which endpoints are allowed. */
  readonly push: PushSettings;
}

/** One request (or one subscription) on behalf of a signed-in user. */
export interface Session {
  readonly deps: Deps;
  readonly userId: string;
  readonly loaders: Loaders;
  /**
   * For subscriptions: ends the connection of a client that stopped reading, so it reconnects
   * and resumes from its last cursor instead of silently losing messages.
   */
  readonly closeSlowConsumer?: () => void;
  /** For subscriptions: closes the connection with "try again later" (1013) and this reason. */
  readonly closeToRetry?: (reason: string) => void;
}
