import type DataLoader from 'dataloader';
import type { Database } from '../db/client.js';
import type { Loaders } from '../db/loaders.js';
import type { DeliveryRecorder, MembershipKey } from '../db/realtime-support.js';
import type { TokenService } from './auth.js';
import type { Events } from './events.js';

/** What the rules need from the outside world, built once at start. */
export interface Deps {
  readonly db: Database;
  readonly tokens: TokenService;
  readonly events: Events;
  /** Current membership, batched across the subscribers handling one event. */
  readonly membership: DataLoader<MembershipKey, boolean, string>;
  readonly deliveries: DeliveryRecorder;
}

/** One request (or one subscription) on behalf of a signed-in user. */
export interface Session {
  readonly deps: Deps;
  readonly userId: string;
  readonly loaders: Loaders;
}
