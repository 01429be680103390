import { describe, expect, it } from "vitest";
import { EXIT } from "../../../src/cli/command.js";
import { COMMANDS, runCli } from "../../../src/cli/run-cli.js";

/** Runs `mdb argv` in-process with captured output; none of these reach a gateway. */
async function mdb(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli({
    argv,
    env: { BACKBONE_GATEWAY: "127.0.0.1:1" },
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    signal: new AbortController().signal,
    now: () => Date.UTC(2024, 0, 10),
  });
  return { code, stdout, stderr };
}

describe("runCli", () => {
  it("answers --help for mdb and for every command on stdout with 0", async () => {
    expect(await mdb("--help")).toMatchObject({ code: EXIT.ok, stderr: "" });
    for (const c of COMMANDS) {
      const { code, stdout } = await mdb(c.spec.name, "--help");
      expect(code, c.spec.name).toBe(EXIT.ok);
      expect(stdout).toContain(`mdb ${c.spec.name} `);
      expect((await mdb("help", c.spec.name)).stdout).toBe(stdout);
    }
  });

  it("prints the program help on stderr and exits 2 without a command", async () => {
    const { code, stdout, stderr } = await mdb();
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe("");
    expect(stderr).toContain("Usage: mdb COMMAND");
  });

  it("exits 2 with the problem and a pointer to --help for bad command lines, before any call", async () => {
    const cases: [string[], string][] = [
      [["frob"], 'mdb: unknown command "frob": expected one of candles, fetch, tickers, orderbook, markets, stats'],
      [["candles", "KRW-BTC"], "mdb: missing TIMEFRAME"],
      [["candles", "KRW-BTC", "7m"], 'mdb: TIMEFRAME: "7m" is not a timeframe'],
      [["candles", "KRW-BTC", "1m", "--count", "5", "--from", "2024-01-01"], "mdb: give either --count or --from, not both"],
      [["candles", "KRW-BTC", "1m", "--count", "0"], 'mdb: --count: "0" is not a whole number from 1 to 4294967295'],
      [["candles", "KRW-BTC", "1m", "--from", "2024-01-09", "--to", "2024-01-08"], "mdb: --from must be before --to"],
      [["candles", "KRW-BTC", "1m", "--format", "xml"], 'mdb: --format: "xml" is not an output format'],
      [["candles", "KRW-BTC", "1m", "--priority", "urgent"], 'mdb: --priority: "urgent" is not a priority'],
      [["fetch", "KRW-BTC", "1m", "--from", "2024-01-01", "--to", "2024-01-02"], "mdb: missing --out"],
      [["fetch", "KRW-BTC", "1m", "--from", "2024-01-02", "--to", "2024-01-01", "--out", "x.csv"], "mdb: --from (2024-01-02T00:00:00.000Z) must be before --to"],
      [["fetch", "KRW-BTC", "1m", "--from", "2024-01-01", "--to", "2024-01-02", "--out", "x.xlsx"], 'mdb: --out: "x.xlsx" must end in .parquet, .csv or .jsonl'],
      [["fetch", ",", "1m", "--from", "2024-01-01", "--to", "2024-01-02", "--out", "x.csv"], 'mdb: MARKETS: "," names no market'],
      [["tickers", "KRW-BTC", "--min-interval", "-1"], "mdb: Option '--min-interval' argument is ambiguous"],
      [["stats", "--format", "csv"], 'mdb: --format: "csv" is not an output format: expected table, json'],
      [["markets", "extra"], 'mdb: unexpected argument "extra"'],
    ];
    for (const [argv, message] of cases) {
      const { code, stderr } = await mdb(...argv);
      expect(code, argv.join(" ")).toBe(EXIT.usage);
      expect(stderr, argv.join(" ")).toContain(message);
      expect(stderr).toMatch(/Run 'mdb( \w+)? --help' for usage\.\n$/);
    }
  });
});
