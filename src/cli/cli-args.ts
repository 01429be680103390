import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./usage-error.js";

/** One option of a command: how `parseArgs` reads it and how `--help` describes it. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** The placeholder shown in help for a string option's value, e.g. `N` or `FILE`. */
  readonly value?: string;
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A positional argument; all are required. */
export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
}

/** Everything `--help` prints about a command and everything its parser accepts. */
export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** One line for the command list of `mdb --help`. */
  readonly summary: string;
  /** Usage lines without the leading `mdb NAME`. */
  readonly synopsis: readonly string[];
  readonly arguments: readonly ArgumentSpec[];
  readonly options: O;
  readonly examples: readonly string[];
  /** Paragraphs printed after the options. */
  readonly notes?: readonly string[];
}

export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string;
};

export interface ParsedCommandLine<O extends OptionSpecs> {
  readonly values: OptionValues<O> & { gateway?: string };
  readonly positionals: readonly string[];
}

/** Options every command takes; `--help` is answered before parsing, see `wantsHelp`. */
export const COMMON_OPTIONS = {
  gateway: {
    type: "string",
    value: "ADDR",
    description: "gateway address host:port or unix:/path (default: $BACKBONE_GATEWAY, else 127.0.0.1:50051)",
  },
  help: { type: "boolean", short: "h", description: "show this help" },
} as const satisfies OptionSpecs;

/** Options of commands that ask the gateway for data. */
export const PRIORITY_OPTION = {
  priority: {
    type: "string",
    value: "P",
    description: "critical, high, normal or low (default: the RPC's own default)",
  },
} as const satisfies OptionSpecs;

/** True when `--help` or `-h` comes before any `--` terminator. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

/**
 * Parses a command's arguments strictly: unknown options, a missing option value, a value given
 * to a boolean, and a wrong number of positional arguments are UsageErrors.
 */
export function parseCommandLine<O extends OptionSpecs>(spec: CommandSpec<O>, argv: readonly string[]): ParsedCommandLine<O> {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, o] of Object.entries<OptionSpec>({ ...COMMON_OPTIONS, ...spec.options })) {
    options[name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (e) {
    // parseArgs reports every malformed command line as a TypeError with an ERR_PARSE_ARGS_* code.
    if (e instanceof TypeError && String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(e.message);
    }
    throw e;
  }
  const expected = spec.arguments;
  if (parsed.positionals.length < expected.length) {
    const missing = expected.slice(parsed.positionals.length).map((a) => a.name);
    throw new UsageError(`missing ${missing.join(" and ")}`);
  }
  if (parsed.positionals.length > expected.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[expected.length])}`);
  }
  return parsed as ParsedCommandLine<O>;
}

/** The `--help` text of a command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = ["Usage:", ...spec.synopsis.map((s) => `  mdb ${spec.name} ${s}`), "", spec.summary];
  if (spec.arguments.length > 0) {
    lines.push("", "Arguments:");
    lines.push(...twoColumns(spec.arguments.map((a) => [a.name, a.description])));
  }
  lines.push("", "Options:");
  lines.push(...twoColumns(Object.entries<OptionSpec>({ ...spec.options, ...COMMON_OPTIONS }).map(([name, o]) => [optionLabel(name, o), o.description])));
  for (const note of spec.notes ?? []) lines.push("", note);
  if (spec.examples.length > 0) lines.push("", "Examples:", ...spec.examples.map((e) => `  ${e}`));
  return `${lines.join("\n")}\n`;
}

/** The `mdb --help` text: every command with its summary. */
export function programHelp(specs: readonly CommandSpec[]): string {
  return [
    "Usage: mdb COMMAND [ARGS] [OPTIONS]",
    "",
    "Command-line client of the market-data backbone gateway (Upbit candles, tickers, order books).",
    "",
    "Commands:",
    ...twoColumns(specs.map((s) => [s.name, s.summary])),
    "",
    "Every command takes --gateway ADDR (default: $BACKBONE_GATEWAY, else 127.0.0.1:50051) and --help.",
    "A gateway with TLS: BACKBONE_GATEWAY_CA=cert.pem (connect by the host name the certificate names); with API keys: BACKBONE_API_KEY=KEY.",
    "Times are ISO 8601 (2024-01-01, 2024-01-01T09:00:00+09:00, 2024-01-01T00:00:00Z; no offset = UTC) or epoch milliseconds.",
    "Exit status: 0 success, 1 the gateway reported an error or could not be reached, 2 bad usage, 130 interrupted.",
    "",
    "Run 'mdb COMMAND --help' for the options of a command.",
    "",
  ].join("\n");
}

function optionLabel(name: string, o: OptionSpec): string {
  const long = o.type === "string" ? `--${name} ${o.value ?? "VALUE"}` : `--${name}`;
  return o.short === undefined ? `    ${long}` : `-${o.short}, ${long}`;
}

function twoColumns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
