/**
 * Parsing and validation of the request frame a client sends on Upbit's public WebSocket
 * (API.md §4.1, §4.3): `[{ticket}, {type, codes, ...}..., {format}?]` or a LIST_SUBSCRIPTIONS
 * request. Invalid frames become a `WsRequestError` carrying Upbit's error name and a
 * Korean-style message like the recorded ones (fixtures/ws-control.json).
 */
import type { Timeframe } from "../shared/timeframe.js";
import { UPBIT_WS_DATA_TYPES, UPBIT_WS_ORDERBOOK_DEPTHS, type UpbitWsCandleType, type UpbitWsDataType } from "../shared/upbit-websocket-protocol.js";

export const WS_DATA_TYPES = UPBIT_WS_DATA_TYPES;
export type WsDataType = UpbitWsDataType;
export type WsCandleType = UpbitWsCandleType;

export const WS_FORMATS = ["DEFAULT", "SIMPLE", "JSON_LIST", "SIMPLE_LIST"] as const;
export type WsFormat = (typeof WS_FORMATS)[number];

export type WsErrorName =
  | "WRONG_FORMAT"
  | "NO_TICKET"
  | "NO_TYPE"
  | "NO_CODES"
  | "INVALID_PARAM"
  | "TOO_MANY_REQUESTS";

/** Orderbook depths a `CODE.N` suffix may ask for; anything else silently means the default. */
export const ORDERBOOK_DEPTHS = UPBIT_WS_ORDERBOOK_DEPTHS;
export const DEFAULT_ORDERBOOK_DEPTH = 30;

/** One data-type object of a subscription request. */
export interface WsTypeRequest {
  readonly type: WsDataType;
  /** Codes as sent, in order, duplicates removed; may include lower-case or `.N` forms. */
  readonly codes: readonly string[];
  readonly isOnlySnapshot: boolean;
  readonly isOnlyRealtime: boolean;
  /** Orderbook aggregation unit (0 = native ticks); 0 for other types. */
  readonly level: number;
}

export type WsRequest =
  | {
      readonly kind: "subscribe";
      readonly ticket: string;
      readonly types: readonly WsTypeRequest[];
      /** Undefined when the frame carried no format object (Upbit then serves DEFAULT). */
      readonly format: WsFormat | undefined;
    }
  | {
      readonly kind: "list-subscriptions";
      readonly ticket: string;
      readonly format: WsFormat | undefined;
    };

export class WsRequestError extends Error {
  override readonly name = "WsRequestError";
  constructor(
    readonly errorName: WsErrorName,
    message: string,
  ) {
    super(message);
  }
}

/** Messages in the style of the recorded frames; the first three are verbatim from the wire. */
const MESSAGES = {
  wrongFormat: "Format 이 맞지 않습니다.",
  noTicket: "티켓이 존재하지 않거나, 유효하지 않습니다.",
  unsupportedType: (t: string) => `${t} 은 지원하지 않는 타입입니다.`,
  noType: "타입이 존재하지 않거나, 유효하지 않습니다.",
  noCodes: "코드가 존재하지 않거나, 유효하지 않습니다.",
  unsupportedFormat: (f: string) => `${f} 은 지원하지 않는 포맷입니다.`,
  unsupportedMethod: (m: string) => `${m} 은 지원하지 않는 메소드입니다.`,
  invalidField: (field: string) => `${field} 값이 유효하지 않습니다.`,
} as const;

export const LIST_SUBSCRIPTIONS_METHOD = "LIST_SUBSCRIPTIONS";

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isDataType(v: string): v is WsDataType {
  return (WS_DATA_TYPES as readonly string[]).includes(v);
}

function isFormat(v: string): v is WsFormat {
  return (WS_FORMATS as readonly string[]).includes(v);
}

/** Parses one client text frame. Throws `WsRequestError` for anything Upbit would reject. */
export function parseRequestFrame(text: string): WsRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WsRequestError("WRONG_FORMAT", MESSAGES.wrongFormat);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new WsRequestError("WRONG_FORMAT", MESSAGES.wrongFormat);
  }
  // Elements are told apart by their keys; the documented order (ticket first, format last) is
  // what clients send, but nothing is gained by rejecting another order.
  let ticket: string | undefined;
  let format: WsFormat | undefined;
  let method: string | undefined;
  const typeObjects: JsonObject[] = [];
  for (const element of parsed) {
    if (!isObject(element)) throw new WsRequestError("WRONG_FORMAT", MESSAGES.wrongFormat);
    if ("ticket" in element) {
      if (typeof element.ticket === "string" && element.ticket.length > 0) ticket = element.ticket;
    } else if ("type" in element) {
      typeObjects.push(element);
    } else if ("format" in element) {
      format = parseFormat(element.format);
    } else if ("method" in element) {
      if (typeof element.method !== "string" || element.method !== LIST_SUBSCRIPTIONS_METHOD) {
        throw new WsRequestError("INVALID_PARAM", MESSAGES.unsupportedMethod(String(element.method)));
      }
      method = element.method;
    } else {
      throw new WsRequestError("WRONG_FORMAT", MESSAGES.wrongFormat);
    }
  }
  if (ticket === undefined) {
    throw new WsRequestError("NO_TICKET", MESSAGES.noTicket);
  }
  if (method !== undefined && typeObjects.length === 0) {
    return { kind: "list-subscriptions", ticket, format };
  }
  if (typeObjects.length === 0) throw new WsRequestError("NO_TYPE", MESSAGES.noType);
  return { kind: "subscribe", ticket, types: typeObjects.map(parseTypeObject), format };
}

function parseFormat(value: unknown): WsFormat {
  if (typeof value === "string") {
    const upper = value.toUpperCase();
    if (isFormat(upper)) return upper;
  }
  throw new WsRequestError("INVALID_PARAM", MESSAGES.unsupportedFormat(String(value)));
}

function parseTypeObject(o: JsonObject): WsTypeRequest {
  const type = o.type;
  if (typeof type !== "string" || type.length === 0) throw new WsRequestError("NO_TYPE", MESSAGES.noType);
  if (!isDataType(type)) throw new WsRequestError("INVALID_PARAM", MESSAGES.unsupportedType(type));
  const codes = o.codes;
  if (!Array.isArray(codes) || codes.length === 0 || !codes.every((c) => typeof c === "string")) {
    throw new WsRequestError("NO_CODES", MESSAGES.noCodes);
  }
  return {
    type,
    codes: [...new Set(codes as string[])],
    // Old docs and clients spell the flags in camelCase.
    isOnlySnapshot: parseFlag(o, "is_only_snapshot", "isOnlySnapshot"),
    isOnlyRealtime: parseFlag(o, "is_only_realtime", "isOnlyRealtime"),
    level: type === "orderbook" ? parseLevel(o.level) : 0,
  };
}

function parseFlag(o: JsonObject, key: string, legacyKey: string): boolean {
  const value = o[key] ?? o[legacyKey];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw new WsRequestError("INVALID_PARAM", MESSAGES.invalidField(key));
  return value;
}

function parseLevel(value: unknown): number {
  if (value === undefined || value === null) return 0;
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new WsRequestError("INVALID_PARAM", MESSAGES.invalidField("level"));
  return n;
}

/**
 * Splits an orderbook code `KRW-BTC.15` into the market and the depth; an unsupported or
 * missing suffix means the default depth, as on the wire (API.md §4.6).
 */
export function parseOrderbookCode(code: string): { market: string; depth: number } {
  const dot = code.lastIndexOf(".");
  if (dot < 0) return { market: code, depth: DEFAULT_ORDERBOOK_DEPTH };
  const suffix = code.slice(dot + 1);
  const n = /^\d+$/.test(suffix) ? Number(suffix) : NaN;
  return {
    market: code.slice(0, dot),
    depth: ORDERBOOK_DEPTHS.includes(n) ? n : DEFAULT_ORDERBOOK_DEPTH,
  };
}

/** The domain timeframe of a candle type: `candle.1m` → `1m`. */
export function candleTimeframe(type: WsCandleType): Timeframe {
  // Every candle type's suffix is a Timeframe by construction of WS_DATA_TYPES.
  return type.slice("candle.".length) as Timeframe;
}

export function isCandleType(type: WsDataType): type is WsCandleType {
  return type.startsWith("candle.");
}
