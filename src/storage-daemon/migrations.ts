import type { DuckDBConnection } from "@duckdb/node-api";

/**
 * Schema versions in order. Each runs once, in its own transaction, and is recorded in
 * `schema_migrations`; a database newer than this code is refused rather than guessed at.
 */
const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE series (
        id INTEGER NOT NULL,
        market VARCHAR NOT NULL,
        timeframe VARCHAR NOT NULL
      );
      -- One row per (series, ts), kept unique by the single writer. Data arrives in time order
      -- per series, so zone maps on ts make range scans read only the row groups they need.
      CREATE TABLE candles (
        series INTEGER NOT NULL,
        ts BIGINT NOT NULL,
        open DOUBLE NOT NULL,
        high DOUBLE NOT NULL,
        low DOUBLE NOT NULL,
        close DOUBLE NOT NULL,
        volume DOUBLE NOT NULL,
        quote_volume DOUBLE NOT NULL
      );
      -- Merged verified intervals [start_ms, end_ms) per series.
      CREATE TABLE coverage (
        series INTEGER NOT NULL,
        start_ms BIGINT NOT NULL,
        end_ms BIGINT NOT NULL
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export async function migrate(conn: DuckDBConnection): Promise<void> {
  await conn.run(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, applied_at_ms BIGINT NOT NULL)",
  );
  const current = Number((await conn.runAndReadAll("SELECT coalesce(max(version), 0) FROM schema_migrations")).getRows()[0]?.[0] ?? 0);
  if (current > SCHEMA_VERSION) {
    throw new Error(`the database has schema version ${current}, newer than this program's ${SCHEMA_VERSION}`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    await conn.run("BEGIN TRANSACTION");
    try {
      await conn.run(m.sql);
      await conn.run("INSERT INTO schema_migrations VALUES ($1, $2)", [m.version, BigInt(Date.now())]);
      await conn.run("COMMIT");
    } catch (e) {
      await conn.run("ROLLBACK").catch(() => undefined);
      throw e;
    }
  }
}
