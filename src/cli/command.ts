import type { MarketDataService } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import type { GrpcClient } from "../shared/grpc/client.js";
import type { CommandSpec, OptionSpecs } from "./cli-args.js";

export type MarketDataClient = GrpcClient<typeof MarketDataService>;

/** stdout or stderr, or a test's stand-in for them. */
export interface Terminal {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Width in columns, when a terminal. */
  readonly columns?: number;
  /** Height in rows, when a terminal. */
  readonly rows?: number;
}

/** What a command gets from the dispatcher. */
export interface CommandContext {
  /**
   * The gateway client, connected to `--gateway` (or its default) on first use; the dispatcher
   * closes it and names the address when it cannot be reached.
   */
  connect(gatewayOption: string | undefined): MarketDataClient;
  readonly stdout: Terminal;
  readonly stderr: Terminal;
  /** Aborted on the first Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
  now(): number;
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  readonly spec: CommandSpec<O>;
  /** Runs with the arguments after the command name (no `--help` among them); resolves with the exit status. */
  run(argv: readonly string[], ctx: CommandContext): Promise<number>;
}

/** Exit statuses of `mdb`. */
export const EXIT = {
  ok: 0,
  /** The gateway answered with an error, could not be reached, or the output could not be written. */
  failure: 1,
  /** The command line is wrong. */
  usage: 2,
  /** Ctrl-C stopped a command that had not finished (watch commands exit 0 instead). */
  interrupted: 130,
} as const;

/** The default gateway: `$BACKBONE_GATEWAY`, else where the gateway listens by default. */
export function defaultGateway(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.BACKBONE_GATEWAY?.trim();
  return fromEnv === undefined || fromEnv === "" ? "127.0.0.1:50051" : fromEnv;
}
