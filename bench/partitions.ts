// BENCH_PARTITIONS=0: the bench database without the partitioning of drizzle/0016, to compare
// send and history with and without it in the same harness. The database is migrated as the
// servers would migrate it, then (still empty) each partitioned table is replaced by a plain
// table like it (same columns, defaults, identity, generated column, checks, keys and indexes,
// though the index names differ), and the foreign keys and triggers that touched it are made
// again. The servers start afterwards, finding every migration applied.
import postgres from 'postgres';
import { migrateWithLock } from '../src/db/client.js';

const UNPARTITION = `
DO $$
DECLARE
  tables text[];
  restore text[];
  t text;
  statement text;
BEGIN
  SELECT array_agg(c.relname::text) INTO tables
    FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
   WHERE c.relnamespace = 'public'::regnamespace;
  IF tables IS NULL THEN
    RETURN;
  END IF;
  -- Foreign keys from or to these tables, and their triggers, as they are declared on the
  -- parents (the partitions' copies have a parent constraint or trigger).
  SELECT coalesce(array_agg(format('ALTER TABLE %s ADD CONSTRAINT %I %s',
                                   conrelid::regclass, conname, pg_get_constraintdef(oid))), '{}')
    INTO restore
    FROM pg_constraint
   WHERE contype = 'f' AND conparentid = 0
     AND (conrelid::regclass::text = ANY (tables) OR confrelid::regclass::text = ANY (tables));
  SELECT restore || coalesce(array_agg(pg_get_triggerdef(oid)), '{}') INTO restore
    FROM pg_trigger
   WHERE NOT tgisinternal AND tgparentid = 0 AND tgrelid::regclass::text = ANY (tables);
  FOREACH t IN ARRAY tables LOOP
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING ALL)', t || '_plain', t);
  END LOOP;
  EXECUTE 'DROP TABLE ' || (SELECT string_agg(quote_ident(x), ', ') FROM unnest(tables) x) || ' CASCADE';
  FOREACH t IN ARRAY tables LOOP
    EXECUTE format('ALTER TABLE %I RENAME TO %I', t || '_plain', t);
  END LOOP;
  FOREACH statement IN ARRAY restore LOOP
    EXECUTE statement;
  END LOOP;
END;
$$`;

/** Migrates the (empty) database at `url`, then turns its partitioned tables into plain ones. */
export async function createWithoutPartitions(url: string): Promise<void> {
  await migrateWithLock(url);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [{ n }] = (await sql`select count(*)::int as n from messages`) as unknown as [
      { n: number },
    ];
    if (n > 0)
      throw new Error('BENCH_PARTITIONS=0 only undoes the partitioning of an empty database');
    await sql.unsafe(UNPARTITION);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
