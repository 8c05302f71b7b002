// `npm run migrate`: applies pending migrations to DATABASE_DIRECT_URL, else DATABASE_URL (or
// the embedded database).
import { loadConfig } from '../config.js';
import { migrateWithLock, openDatabase } from './client.js';

const config = loadConfig();
if (config.databaseDirectUrl) {
  await migrateWithLock(config.databaseDirectUrl);
} else {
  const handle = await openDatabase({
    dataDir: config.dataDir,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    sharedBuffersMb: config.embeddedSharedBuffersMb,
  });
  await handle.close();
}
console.log('migrations applied');
