// `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database).
import { loadConfig } from '../config.js';
import { migrateWithLock, openDatabase } from './client.js';

const config = loadConfig();
if (config.databaseUrl) {
  await migrateWithLock(config.databaseUrl);
} else {
  const handle = await openDatabase({
    dataDir: config.dataDir,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    sharedBuffersMb: config.embeddedSharedBuffersMb,
  });
  await handle.close();
}
console.log('migrations applied');
