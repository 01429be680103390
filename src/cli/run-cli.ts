import { MarketDataService } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { createGrpcClient } from "../shared/grpc/client.js";
import { commandHelp, programHelp, wantsHelp } from "./cli-args.js";
import { type Command, type CommandContext, defaultGateway, EXIT, type MarketDataClient, type Terminal } from "./command.js";
import { candlesCommand } from "./commands/candles.js";
import { fetchCommand } from "./commands/fetch.js";
import { marketsCommand } from "./commands/markets.js";
import { orderbookCommand } from "./commands/orderbook.js";
import { statsCommand } from "./commands/stats.js";
import { tickersCommand } from "./commands/tickers.js";
import { reportError } from "./error-report.js";
import { gatewayConnection } from "./gateway-connection.js";
import { UsageError } from "./usage-error.js";

// The cast forgets each command's own option types, which only its `run` needs.
export const COMMANDS = [candlesCommand, fetchCommand, tickersCommand, orderbookCommand, marketsCommand, statsCommand] as unknown as readonly Command[];

export interface CliEnvironment {
  /** The arguments after `mdb`. */
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: Terminal;
  readonly stderr: Terminal;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

/** Runs one `mdb` command line and resolves with its exit status; never rejects. */
export async function runCli(cli: CliEnvironment): Promise<number> {
  const [name, ...rest] = cli.argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.spec.name === rest[0]) : undefined;
    if (name === undefined) {
      cli.stderr.write(programHelp(COMMANDS.map((c) => c.spec)));
      return EXIT.usage;
    }
    cli.stdout.write(topic === undefined ? programHelp(COMMANDS.map((c) => c.spec)) : commandHelp(topic.spec));
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (command === undefined) {
    const known = COMMANDS.map((c) => c.spec.name).join(", ");
    return reportError(new UsageError(`unknown command ${JSON.stringify(name)}: expected one of ${known}`), { command: undefined, gateway: undefined }, cli.stderr);
  }
  if (wantsHelp(rest)) {
    cli.stdout.write(commandHelp(command.spec));
    return EXIT.ok;
  }

  let gateway: string | undefined;
  let client: MarketDataClient | undefined;
  const ctx: CommandContext = {
    connect(option) {
      if (client !== undefined) return client;
      gateway = option?.trim() || defaultGateway(cli.env);
      const connection = gatewayConnection(cli.env);
      client = createGrpcClient(MarketDataService, gateway, connection.channelOptions, connection.credentials);
      return client;
    },
    stdout: cli.stdout,
    stderr: cli.stderr,
    signal: cli.signal,
    now: cli.now ?? Date.now,
  };
  try {
    return await command.run(rest, ctx);
  } catch (e) {
    if (cli.signal.aborted) {
      cli.stderr.write("mdb: interrupted\n");
      return EXIT.interrupted;
    }
    return reportError(e, { command: command.spec.name, gateway }, cli.stderr);
  } finally {
    client?.close();
  }
}
