/**
 * How a list of markets is cut into Upbit calls of `/v1/ticker` and `/v1/orderbook`.
 *
 * Upbit documents no maximum number of markets per call; the practical limit is the URL length
 * (API.md §1.6: all 855 pairs in one call worked, URLs of ~8 KB worked). We stay well inside
 * both: at most `MAX_MARKETS_PER_CALL` codes and `MAX_MARKETS_PARAM_CHARS` characters of the
 * encoded `markets` value per call (2,000 keeps the whole URL under the 2,048 characters every
 * proxy accepts). Smaller calls also run in parallel and a failure costs less to repeat; the
 * price is rate budget, and 100 codes keep all ~855 Upbit pairs within 9 calls (one second of
 * one group's budget).
 */

export const MAX_MARKETS_PER_CALL = 100;
export const MAX_MARKETS_PARAM_CHARS = 2_000;

/** Length of `code` in the query string: the comma between codes is sent as `%2C`. */
function encodedLength(code: string): number {
  return encodeURIComponent(code).length;
}
const SEPARATOR_LENGTH = encodeURIComponent(",").length;

/**
 * `codes` in order, cut into consecutive batches of at most `maxPerCall` codes whose encoded,
 * comma-joined length is at most `maxChars`. A single code longer than `maxChars` still gets a
 * batch of its own (market codes are short; this only keeps the function total).
 */
export function splitMarketList(
  codes: readonly string[],
  maxPerCall = MAX_MARKETS_PER_CALL,
  maxChars = MAX_MARKETS_PARAM_CHARS,
): string[][] {
  if (!Number.isInteger(maxPerCall) || maxPerCall < 1) throw new RangeError(`maxPerCall must be a positive integer, got ${maxPerCall}`);
  const batches: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const code of codes) {
    const length = encodedLength(code);
    const joined = current.length === 0 ? length : chars + SEPARATOR_LENGTH + length;
    if (current.length > 0 && (current.length >= maxPerCall || joined > maxChars)) {
      batches.push(current);
      current = [];
      chars = length;
    } else {
      chars = joined;
    }
    current.push(code);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
