// Usage: tsx bench/run.ts [name...]   (no name: every benchmark)
// Prints each result as JSON, then a table. Exit 0 even when a target is missed (the `ok` column
// says so), 1 when a benchmark fails, 2 for an unknown name.
import { runBulkBench } from "./bulk.bench.js";
import { runGatewayBench } from "./gateway.bench.js";
import { runSimExchangeBench } from "./sim-exchange.bench.js";
import { type Metric, runStorageBench } from "./storage.bench.js";
import { runStreamsBench } from "./streams.bench.js";

interface BenchResult {
  metrics: Metric[];
}

const BENCHMARKS: Record<string, (log: (msg: string) => void) => Promise<BenchResult>> = {
  storage: runStorageBench,
  "sim-exchange": runSimExchangeBench,
  gateway: runGatewayBench,
  streams: runStreamsBench,
  bulk: runBulkBench,
};

function format(v: number | undefined, unit = ""): string {
  if (v === undefined || Number.isNaN(v)) return "-";
  if (unit === "rows/s") return `${(v / 1e6).toFixed(2)}M rows/s`;
  if (unit === "ms") return `${v.toFixed(2)} ms`;
  if (unit === "count") return String(v);
  return v.toFixed(2);
}

function table(metrics: readonly Metric[]): string {
  const header = ["metric", "value", "baseline", "ratio", "target", "ok"];
  const rows = metrics.map((m) => [
    m.name,
    format(m.value, m.unit),
    format(m.baseline, m.unit),
    format(m.ratio),
    m.target ?? "-",
    m.ok === undefined ? "-" : m.ok ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark: ${unknown.join(", ")}\nknown benchmarks: ${Object.keys(BENCHMARKS).join(", ")}\n`);
  process.exit(2);
}

let failed = false;
for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
  try {
    const result = await BENCHMARKS[name]!((msg) => process.stderr.write(`[${name}] ${msg}\n`));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n\n${table(result.metrics)}\n`);
  } catch (e) {
    failed = true;
    process.stderr.write(`benchmark ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  }
}
process.exit(failed ? 1 : 0);
