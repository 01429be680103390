import { Priority } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { badOptionValue } from "./usage-error.js";

const PRIORITIES: ReadonlyMap<string, Priority> = new Map([
  ["critical", Priority.CRITICAL],
  ["high", Priority.HIGH],
  ["normal", Priority.NORMAL],
  ["low", Priority.LOW],
]);

/**
 * The wire priority of `--priority`; PRIORITY_UNSPECIFIED when the option is absent, so each RPC
 * applies its own default (NORMAL, or LOW for FetchCandleRange).
 */
export function parsePriorityArg(value: string | undefined): Priority {
  if (value === undefined) return Priority.UNSPECIFIED;
  const p = PRIORITIES.get(value.trim().toLowerCase());
  if (p === undefined) throw badOptionValue("--priority", value, "is not a priority: expected critical, high, normal or low");
  return p;
}
