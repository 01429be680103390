import { InvalidArgumentError } from "./errors.js";

/** Upbit's `QUOTE-BASE` code, upper case: `KRW-BTC`, `BTC-ETH`, `USDT-SOL`. */
const MARKET_CODE = /^[A-Z]{2,10}-[A-Z0-9]{1,20}$/;

export function isMarketCode(value: string): boolean {
  return MARKET_CODE.test(value);
}

/** Returns `value` when it is a market code; INVALID_ARGUMENT naming `field` otherwise. */
export function checkMarketCode(value: string, field: string): string {
  if (!isMarketCode(value)) {
    throw new InvalidArgumentError(
      field,
      JSON.stringify(value),
      "is not a market code: expected upper-case QUOTE-BASE, e.g. KRW-BTC",
    );
  }
  return value;
}
