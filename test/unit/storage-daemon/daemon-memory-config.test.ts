import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/shared/errors.js";
import { loadStorageDaemonConfig } from "../../../src/storage-daemon/config.js";

describe("BACKBONE_DUCKDB_MEMORY_LIMIT", () => {
  it("defaults to 512MB and takes DuckDB's sizes", () => {
    expect(loadStorageDaemonConfig([], {}).duckdbMemoryLimit).toBe("512MB");
    for (const size of ["64MB", "2GiB", "1TB", "900KB"]) expect(loadStorageDaemonConfig([], { BACKBONE_DUCKDB_MEMORY_LIMIT: size }).duckdbMemoryLimit).toBe(size);
  });

  it.each(["512", "0MB", "-1GB", "1.5GB", "512 MB", "lots", "512MB; DROP TABLE candles"])("refuses %j naming the variable", (value) => {
    const load = () => loadStorageDaemonConfig([], { BACKBONE_DUCKDB_MEMORY_LIMIT: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/BACKBONE_DUCKDB_MEMORY_LIMIT/);
  });
});
