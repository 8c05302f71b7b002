// What a scenario cost PostgreSQL: statements (pg_stat_statements, top level: a function's own
// statements count as the one call) and commits of writing transactions (transaction ids handed
// out, read from the next id to be assigned, which is current at once, unlike pg_stat_database's
// counters). The bench's PostgreSQL loads pg_stat_statements; these readings take their own
// connection.
import postgres from 'postgres';

export interface DbCost {
  statements: number;
  commits: number;
}

export function dbStats(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const ready = sql`create extension if not exists pg_stat_statements`;
  const read = async () => {
    await ready;
    const [row] = await sql<{ statements: string | null; commits: string }[]>`
      select (select sum(calls) from pg_stat_statements s
               where s.dbid = d.oid and s.query not ilike '%pg_stat%'
                 and s.query not ilike '%pg_current_snapshot%') as statements,
             pg_snapshot_xmax(pg_current_snapshot())::text as commits
        from pg_database d where d.datname = current_database()`;
    return { statements: Number(row!.statements ?? 0), commits: Number(row!.commits) };
  };
  return {
    /** Runs `work`; returns its result and what it cost the database in all. */
    async during<T>(work: () => Promise<T>): Promise<{ result: T; cost: DbCost }> {
      await ready;
      await sql`select pg_stat_statements_reset()`;
      const before = await read();
      const result = await work();
      const after = await read();
      if (process.env.BENCH_STATEMENTS === '1') {
        const top = await sql<{ calls: string; query: string }[]>`
          select calls::text, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 160) as query
            from pg_stat_statements order by calls desc limit 12`;
        for (const t of top) console.log(`  ${t.calls.padStart(8)}  ${t.query}`);
      }
      return {
        result,
        cost: { statements: after.statements, commits: after.commits - before.commits },
      };
    },
    end: () => sql.end(),
  };
}

/** The cost per operation, for the table and the JSON. */
export const perOperation = (cost: DbCost, operations: number) => ({
  statements: operations ? cost.statements / operations : 0,
  commits: operations ? cost.commits / operations : 0,
});
