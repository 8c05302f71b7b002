import type { Database } from '../db/client.js';
import type { Loaders } from '../db/loaders.js';
import type { TokenService } from './auth.js';

/** What the rules need from the outside world, built once at start. */
export interface Deps {
  readonly db: Database;
  readonly tokens: TokenService;
}

/** One request (or one subscription event) on behalf of a signed-in user. */
export interface Session {
  readonly deps: Deps;
  readonly userId: string;
  readonly loaders: Loaders;
}
