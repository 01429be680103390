import { badOptionValue } from "./usage-error.js";

/**
 * A whole number in `[min, max]` from `option`'s `value`; a UsageError naming the option
 * otherwise. Digits only: `1e3`, `0x10` and `12.0` are refused rather than guessed at.
 */
export function parseIntegerArg(option: string, value: string, min: number, max: number): number {
  const text = value.trim();
  const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw badOptionValue(option, value, `is not a whole number from ${min} to ${max}`);
  }
  return n;
}
