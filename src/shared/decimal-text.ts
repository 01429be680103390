/**
 * How Upbit spells amounts: `n` with exactly `digits` fractional digits, from its shortest
 * decimal form, so `0.0256597` becomes `0.02565970` rather than the binary neighbour `toFixed`
 * would print. The simulator writes it; the gateway reads live values back the same way.
 */
export function fixedDecimalText(n: number, digits: number): string {
  if (!Number.isFinite(n)) return "null";
  const shortest = String(n);
  if (/e/i.test(shortest)) return n.toFixed(digits);
  const dot = shortest.indexOf(".");
  if (dot < 0) return digits === 0 ? shortest : `${shortest}.${"0".repeat(digits)}`;
  const fraction = shortest.length - dot - 1;
  if (fraction > digits) return n.toFixed(digits);
  return shortest + "0".repeat(digits - fraction);
}

/** `n` as a number spelled with `digits` fractional digits reads back (what a REST client of Upbit gets). */
export function spelledValue(n: number, digits: number): number {
  return Number.isFinite(n) ? Number(fixedDecimalText(n, digits)) : n;
}
