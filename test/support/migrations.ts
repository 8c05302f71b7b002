// A migrations folder holding drizzle/'s migrations up to and including one of them, for tests
// of a later migration: a database opened with it stands where that migration left it, with
// the real journal entries (so a later openDatabase applies only the rest).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const drizzleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

interface Journal {
  entries: { idx: number; tag: string }[];
}

/** A temporary folder of the migrations up to and including `tag` (e.g. '0015_search_scaling'). */
export function migrationsUpTo(tag: string): string {
  const journal = JSON.parse(
    readFileSync(path.join(drizzleDir, 'meta', '_journal.json'), 'utf8'),
  ) as Journal;
  const last = journal.entries.findIndex((e) => e.tag === tag);
  if (last < 0) throw new Error(`no migration ${tag} in drizzle/meta/_journal.json`);
  const entries = journal.entries.slice(0, last + 1);
  const folder = mkdtempSync(path.join(os.tmpdir(), 'parley-migrations-'));
  mkdirSync(path.join(folder, 'meta'));
  writeFileSync(
    path.join(folder, 'meta', '_journal.json'),
    JSON.stringify({ ...journal, entries }),
  );
  for (const e of entries) {
    copyFileSync(path.join(drizzleDir, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
  }
  return folder;
}
