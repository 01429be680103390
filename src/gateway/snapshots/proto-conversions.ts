/**
 * Upbit's quotation data (already parsed and validated, see upstream/upbit-types.ts) as the
 * public API's messages. Pure functions: the same shapes serve REST answers, the realtime cache
 * and, later, streams.
 */
import { create } from "@bufbuild/protobuf";
import {
  AskBid as ProtoAskBid,
  Change as ProtoChange,
  type Market,
  MarketSchema,
  MarketState,
  type Orderbook,
  OrderbookSchema,
  type Ticker,
  TickerSchema,
  type Trade,
  TradeSchema,
} from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { AskBid, Change, UpbitMarket, UpbitOrderbook, UpbitTicker, UpbitTrade } from "../upstream/upbit-types.js";

const CHANGE: Readonly<Record<Change, ProtoChange>> = { RISE: ProtoChange.RISE, EVEN: ProtoChange.EVEN, FALL: ProtoChange.FALL };
const ASK_BID: Readonly<Record<AskBid, ProtoAskBid>> = { ASK: ProtoAskBid.ASK, BID: ProtoAskBid.BID };
const MARKET_STATE: Readonly<Record<string, MarketState>> = {
  PREVIEW: MarketState.PREVIEW,
  ACTIVE: MarketState.ACTIVE,
  DELISTED: MarketState.DELISTED,
};

/** Upbit's `market_event.caution` keys, by the MarketEvent field each one sets. */
const CAUTION_KEYS = {
  cautionPriceFluctuations: "PRICE_FLUCTUATIONS",
  cautionTradingVolumeSoaring: "TRADING_VOLUME_SOARING",
  cautionDepositAmountSoaring: "DEPOSIT_AMOUNT_SOARING",
  cautionGlobalPriceDifferences: "GLOBAL_PRICE_DIFFERENCES",
  cautionConcentrationOfSmallAccounts: "CONCENTRATION_OF_SMALL_ACCOUNTS",
} as const;

export function marketToProto(m: UpbitMarket): Market {
  const dash = m.market.indexOf("-");
  const caution = m.caution ?? {};
  return create(MarketSchema, {
    market: m.market,
    quoteCurrency: m.market.slice(0, dash),
    baseCurrency: m.market.slice(dash + 1),
    koreanName: m.koreanName,
    englishName: m.englishName,
    marketEvent: {
      warning: m.warning ?? false,
      cautionPriceFluctuations: caution[CAUTION_KEYS.cautionPriceFluctuations] ?? false,
      cautionTradingVolumeSoaring: caution[CAUTION_KEYS.cautionTradingVolumeSoaring] ?? false,
      cautionDepositAmountSoaring: caution[CAUTION_KEYS.cautionDepositAmountSoaring] ?? false,
      cautionGlobalPriceDifferences: caution[CAUTION_KEYS.cautionGlobalPriceDifferences] ?? false,
      cautionConcentrationOfSmallAccounts: caution[CAUTION_KEYS.cautionConcentrationOfSmallAccounts] ?? false,
    },
  });
}

/** `YYYY-MM-DD`; Upbit spells dates so everywhere except some legacy `yyyyMMdd` fields. */
export function isoDate(text: string): string {
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  return compact ? `${compact[1]}-${compact[2]}-${compact[3]}` : text;
}

/** Upbit's `market_state`; a state this contract does not know reads as unspecified. */
function marketStateOf(state: string | undefined): MarketState {
  return state !== undefined && Object.hasOwn(MARKET_STATE, state) ? MARKET_STATE[state]! : MarketState.UNSPECIFIED;
}

export function tickerToProto(t: UpbitTicker): Ticker {
  return create(TickerSchema, {
    market: t.market,
    tradeTimeMs: BigInt(t.tradeTimestampMs),
    openingPrice: t.openingPrice,
    highPrice: t.highPrice,
    lowPrice: t.lowPrice,
    tradePrice: t.tradePrice,
    prevClosingPrice: t.prevClosingPrice,
    change: CHANGE[t.change],
    changePrice: t.changePrice,
    changeRate: t.changeRate,
    signedChangePrice: t.signedChangePrice,
    signedChangeRate: t.signedChangeRate,
    tradeVolume: t.tradeVolume,
    accTradePrice: t.accTradePrice,
    accTradePrice24h: t.accTradePrice24h,
    accTradeVolume: t.accTradeVolume,
    accTradeVolume24h: t.accTradeVolume24h,
    highest52WeekPrice: t.highest52WeekPrice,
    highest52WeekDate: isoDate(t.highest52WeekDate),
    lowest52WeekPrice: t.lowest52WeekPrice,
    lowest52WeekDate: isoDate(t.lowest52WeekDate),
    timestampMs: BigInt(t.timestampMs),
    // The rest exists only on the live feed; REST tickers leave the proto defaults.
    askBid: t.askBid === undefined ? ProtoAskBid.UNSPECIFIED : ASK_BID[t.askBid],
    accAskVolume: t.accAskVolume ?? 0,
    accBidVolume: t.accBidVolume ?? 0,
    marketState: marketStateOf(t.marketState),
    delistingDate: t.delistingDate ? isoDate(t.delistingDate) : "",
    marketWarning: t.marketWarning ?? "",
    isTradingSuspended: t.isTradingSuspended ?? false,
  });
}

/**
 * The book as Upbit sent it, best level first. The parser already dropped the units that were
 * zero padding on both sides; a unit whose one side is padding keeps that side at (0, 0), since
 * a unit carries one bid and one ask at the same depth.
 */
export function orderbookToProto(b: UpbitOrderbook): Orderbook {
  return create(OrderbookSchema, {
    market: b.market,
    timestampMs: BigInt(b.timestampMs),
    totalAskSize: b.totalAskSize,
    totalBidSize: b.totalBidSize,
    units: b.units.map((u) => ({ askPrice: u.askPrice, askSize: u.askSize, bidPrice: u.bidPrice, bidSize: u.bidSize })),
    level: b.level,
  });
}

export function tradeToProto(t: UpbitTrade): Trade {
  return create(TradeSchema, {
    market: t.market,
    sequentialId: t.sequentialId,
    tradeTimeMs: BigInt(t.tradeTimestampMs),
    tradePrice: t.tradePrice,
    tradeVolume: t.tradeVolume,
    askBid: ASK_BID[t.askBid],
    prevClosingPrice: t.prevClosingPrice,
    changePrice: t.changePrice,
    change: t.change === undefined ? ProtoChange.UNSPECIFIED : CHANGE[t.change],
    bestAskPrice: t.bestAskPrice ?? 0,
    bestAskSize: t.bestAskSize ?? 0,
    bestBidPrice: t.bestBidPrice ?? 0,
    bestBidSize: t.bestBidSize ?? 0,
    // REST trades carry no message time: 0, as the contract says.
    timestampMs: BigInt(t.timestampMs ?? 0),
  });
}
