import { UsageError } from "./usage-error.js";

/**
 * The market codes of a MARKETS argument, `KRW-BTC,KRW-ETH` (spaces allowed around commas).
 * Codes are passed to the gateway as written, so a malformed one gets the server's own
 * INVALID_ARGUMENT message naming the field.
 */
export function parseMarketListArg(value: string, argument = "MARKETS"): string[] {
  const codes = value
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (codes.length === 0) throw new UsageError(`${argument}: ${JSON.stringify(value)} names no market, e.g. KRW-BTC,KRW-ETH`);
  return codes;
}
