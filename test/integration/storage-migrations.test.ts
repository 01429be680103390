import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, describe, expect, it } from "vitest";
import { DATABASE_FILE, DuckDBCandleStore } from "../../src/storage-daemon/duckdb-candle-store.js";
import { migrate, SCHEMA_VERSION } from "../../src/storage-daemon/migrations.js";
import { removeDir, tempDir } from "../support/daemon-process.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

async function withConnection<T>(path: string, fn: (c: Awaited<ReturnType<DuckDBInstance["connect"]>>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe("schema migrations", () => {
  it("creates the schema once, records its version, and leaves a migrated file alone", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, DATABASE_FILE);
    await withConnection(path, async (c) => {
      await migrate(c);
      await migrate(c); // a second run must be a no-op, not a "table exists" error
      const versions = (await c.runAndReadAll("SELECT version FROM schema_migrations ORDER BY version")).getRows();
      expect(versions.map((r) => Number(r[0]))).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      const tables = (await c.runAndReadAll("SELECT table_name FROM information_schema.tables ORDER BY 1")).getRows().map((r) => r[0]);
      expect(tables).toEqual(expect.arrayContaining(["candles", "coverage", "series", "schema_migrations"]));
    });
  });

  it("refuses a database written by a newer version instead of guessing at its schema", async () => {
    const dir = tempDir();
    dirs.push(dir);
    await withConnection(join(dir, DATABASE_FILE), async (c) => {
      await migrate(c);
      await c.run("INSERT INTO schema_migrations VALUES ($1, 0)", [SCHEMA_VERSION + 1]);
    });
    await expect(DuckDBCandleStore.open(dir)).rejects.toThrow(/schema version \d+, newer than this program's/);
  });
});
