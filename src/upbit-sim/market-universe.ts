/**
 * The simulator's market universe: which pairs exist, their names, liquidity, price level, tick,
 * listing time and warning flags. Deterministic from the seed (and the UTC day of `nowMs`, which
 * anchors listing dates), so every run with the same seed on the same day lists the same markets.
 *
 * Codes are real: the KRW bases of a recorded Upbit snapshot (`upbit/fixtures/ticker-all-krw.json`,
 * 2026-03-11), embedded here because the simulator must not need the fixtures at run time.
 */
import type { QuoteCurrency, SimMarket } from "./exchange-model.js";

export interface MarketUniverseOptions {
  /** Seed of every random choice (liquidity jitter, listing dates, flags). */
  seed: number;
  /** Number of KRW pairs. Default 200; beyond the 244 recorded bases, synthetic `SIM<n>` bases. */
  krwMarkets?: number;
  /** Number of BTC-quoted pairs. Default 40. */
  btcMarkets?: number;
  /** Number of USDT-quoted pairs. Default 20. */
  usdtMarkets?: number;
  /** "Now", UTC ms: listing dates are placed relative to the start of its UTC day. */
  nowMs: number;
}

const DEFAULT_KRW_MARKETS = 200;
const DEFAULT_BTC_MARKETS = 40;
const DEFAULT_USDT_MARKETS = 20;

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const YEAR_MS = 365 * DAY_MS;
/** Established markets were listed at least this long ago, so 2+ years of history exist. */
const MIN_ESTABLISHED_AGE_MS = 3 * YEAR_MS;
/** ...and at most this much older again. */
const ESTABLISHED_AGE_SPREAD_MS = 5 * YEAR_MS;
/** Recently listed markets ("beginning of market" is reachable by paging): 30..200 days ago. */
const RECENT_MIN_AGE_MS = 30 * DAY_MS;
const RECENT_AGE_SPREAD_MS = 170 * DAY_MS;
/** One market in this many (outside the top ranks) is a recent listing. */
const RECENT_LISTING_ONE_IN = 16;
/** The busiest ranks are never recent listings, never flagged. */
const PROTECTED_TOP_RANKS = 10;
const WARNING_PROBABILITY = 0.025;
const CAUTION_FLAG_PROBABILITY = 0.06;

/** Mean trades per minute of the busiest pair of each quote; lower ranks fall off as a power law. */
const TOP_TRADES_PER_MINUTE: Readonly<Record<QuoteCurrency, number>> = { KRW: 30, BTC: 1.5, USDT: 2 };
/** Rank scale and exponent of that fall-off: rate = top / (1 + rank / scale) ^ exponent. */
const LIQUIDITY_RANK_SCALE: Readonly<Record<QuoteCurrency, number>> = { KRW: 3, BTC: 2, USDT: 2 };
const LIQUIDITY_EXPONENT = 1.3;

/** KRW price of one BTC and one USDT, to derive BTC- and USDT-quoted price levels (snapshot values). */
const KRW_PER_BTC = 103_458_000;
const KRW_PER_USDT = 1_463;
/** BTC-quoted price floor: keeps at least ~1,000 satoshi ticks of resolution. */
const MIN_BTC_QUOTED_PRICE = 0.00001;
const MIN_USDT_QUOTED_PRICE = 0.00001;
/** Stablecoins are not listed against BTC or USDT. */
const STABLECOINS: ReadonlySet<string> = new Set(["USDT", "USDC", "USD1", "USDE"]);

/**
 * KRW bases of the recorded snapshot with their last KRW price, ordered by 24 h turnover
 * (busiest first). The price seeds each market's reference price.
 */
const RECORDED_KRW_BASES: ReadonlyArray<readonly [string, number]> = [
  ["XRP", 2045], ["BTC", 103458000], ["ICP", 3998], ["ETH", 3025000], ["USDT", 1463], ["FLOW", 86],
  ["ICX", 58.3], ["DOGE", 138], ["SOL", 127000], ["BSV", 22680], ["COMP", 27620], ["ARDR", 70.6],
  ["SIGN", 74.9], ["KITE", 397], ["AKT", 650], ["SXP", 32.3], ["LA", 360], ["SAHARA", 35],
  ["SHIB", 0.00854], ["SUI", 1436], ["ADA", 389], ["ONG", 90.8], ["VTHO", 0.878],
  ["VIRTUAL", 1043], ["ENSO", 1629], ["IP", 1141], ["FIL", 1316], ["EDGE", 209], ["SEI", 92.8],
  ["MANTRA", 24.9], ["BARD", 1617], ["KERNEL", 140], ["XLM", 236], ["RENDER", 2273],
  ["BCH", 667000], ["NEAR", 1920], ["AXS", 1708], ["XPL", 150], ["ONDO", 382], ["PEPE", 0.00493],
  ["NOM", 6.1], ["PENGU", 10.6], ["BERA", 851], ["AVNT", 220], ["AWE", 74.7], ["WLD", 531],
  ["ESP", 147], ["LINK", 13350], ["SENT", 33.6], ["TRUMP", 4318], ["PLUME", 18], ["KAVA", 95.4],
  ["STORJ", 139], ["CFG", 193], ["AERGO", 80.4], ["TRX", 425], ["CVC", 43.5], ["BIGTIME", 20.2],
  ["T", 9.73], ["ATH", 8.68], ["GAS", 2274], ["POKT", 21.5], ["ETC", 12270], ["ARK", 258],
  ["ORBS", 14.2], ["CHZ", 56.5], ["TAO", 291700], ["STX", 380], ["HBAR", 140], ["SKR", 34],
  ["BREV", 192], ["ENS", 8930], ["ONT", 60.3], ["AGLD", 348], ["AVAX", 14280], ["DEEP", 45.4],
  ["WET", 157], ["XEC", 0.0104], ["ZK", 27.9], ["BEAM", 3.08], ["ARB", 149], ["ALT", 11.5],
  ["ZRO", 3063], ["BOUNTY", 31], ["AZTEC", 31.9], ["ANKR", 6.43], ["UNI", 5775], ["STEEM", 85],
  ["ELF", 114], ["0G", 822], ["ELSA", 105], ["ENA", 156], ["JUP", 244], ["POL", 143], ["TREE", 98],
  ["DOT", 2253], ["CPOOL", 29.9], ["WAXP", 9.59], ["YGG", 58], ["ATOM", 2675], ["XAUT", 7524000],
  ["MIRA", 119], ["AAVE", 166000], ["SAND", 122], ["ZKP", 124], ["IN", 98.3], ["PUMP", 3],
  ["APT", 1414], ["IOTA", 94.4], ["LAYER", 122], ["TOSHI", 0.308], ["USDC", 1464], ["MOVE", 30.8],
  ["KAITO", 516], ["BONK", 0.00887], ["WLFI", 150], ["A", 113], ["PROVE", 382], ["JST", 76.9],
  ["ORCA", 1362], ["BIRB", 222], ["LINEA", 4.76], ["HOLO", 85.5], ["ME", 168], ["ALGO", 127],
  ["MEW", 0.881], ["FCT2", 18.2], ["BIO", 30.8], ["MOODENG", 72.8], ["ZORA", 25.4], ["FLOCK", 81],
  ["BTT", 0.000482], ["VET", 10.5], ["OP", 178], ["BAT", 144], ["MON", 31.5], ["POWR", 94],
  ["DOOD", 4.25], ["EGLD", 6130], ["BLAST", 0.719], ["PENDLE", 1874], ["GLM", 187], ["ASTR", 11.3],
  ["SONIC", 63.3], ["WAVES", 675], ["ZETA", 74.4], ["2Z", 115], ["RED", 190], ["CARV", 83.3],
  ["SOPH", 12.4], ["NEWT", 97.1], ["INJ", 4397], ["AUCTION", 6940], ["TIA", 497], ["CELO", 111],
  ["NEO", 3777], ["TRUST", 99.9], ["ZBT", 111], ["PYTH", 68.3], ["ERA", 200], ["ZIL", 6.14],
  ["QTUM", 1313], ["ANIME", 6.68], ["AERO", 504], ["FF", 109], ["STRAX", 20.5], ["SOMI", 269],
  ["MOCA", 21.2], ["HIVE", 93.7], ["IQ", 1.67], ["TAIKO", 174], ["LPT", 3340], ["DRIFT", 120],
  ["TFUEL", 19.2], ["VANA", 2084], ["GMT", 16.2], ["AXL", 78.6], ["IMX", 242], ["POLYX", 59.7],
  ["GRT", 38.1], ["W", 27], ["CYBER", 793], ["SNT", 14.3], ["BORA", 54.5], ["LSK", 191],
  ["DKA", 6.63], ["MANA", 136], ["CKB", 2.24], ["MNT", 1025], ["WCT", 83.1], ["ZRX", 155],
  ["ID", 61.2], ["MMT", 174], ["MLK", 77.1], ["CTC", 228], ["F", 7.76], ["JTO", 391],
  ["MINA", 81.6], ["CRO", 111], ["HYPER", 130], ["SAFE", 153], ["KNC", 195], ["XTZ", 537],
  ["AQT", 743], ["STG", 275], ["1INCH", 140], ["RVN", 8.05], ["THETA", 271], ["ZKC", 124],
  ["ARKM", 155], ["BLUR", 28.6], ["MASK", 648], ["API3", 420], ["MOC", 40.3], ["SC", 1.53],
  ["PUNDIX", 221], ["SUPER", 168], ["OPEN", 221], ["RAY", 881], ["FLUID", 3240], ["MTL", 399],
  ["COW", 349], ["MED", 3.3], ["IOST", 1.7], ["META", 14.1], ["WAL", 115], ["CBK", 369],
  ["TOKAMAK", 720], ["NXPC", 406], ["QKC", 4.61], ["HUNT", 143], ["G", 4.86], ["ORDER", 78.9],
  ["MBL", 1.34], ["SYRUP", 334], ["MET2", 235], ["AHT", 2.23], ["MVL", 1.96], ["HP", 24.5],
  ["TT", 1.29], ["SUN", 23.3], ["USD1", 1462], ["GAME2", 2.02], ["USDE", 1466],
];

/** Names of the best-known bases; the rest get generic ones. */
const KNOWN_NAMES: Readonly<Record<string, readonly [korean: string, english: string]>> = {
  BTC: ["비트코인", "Bitcoin"],
  ETH: ["이더리움", "Ethereum"],
  XRP: ["리플", "Ripple"],
  SOL: ["솔라나", "Solana"],
  DOGE: ["도지코인", "Dogecoin"],
  ADA: ["에이다", "Cardano"],
  USDT: ["테더", "Tether"],
  USDC: ["유에스디코인", "USD Coin"],
  ICP: ["인터넷컴퓨터", "Internet Computer"],
  FLOW: ["플로우", "Flow"],
  ICX: ["아이콘", "ICON"],
  BSV: ["비트코인에스브이", "Bitcoin SV"],
  COMP: ["컴파운드", "Compound"],
  ARDR: ["아더", "Ardor"],
  SHIB: ["시바이누", "Shiba Inu"],
  SUI: ["수이", "Sui"],
  FIL: ["파일코인", "Filecoin"],
  XLM: ["스텔라루멘", "Stellar Lumens"],
  BCH: ["비트코인캐시", "Bitcoin Cash"],
  NEAR: ["니어프로토콜", "NEAR Protocol"],
  PEPE: ["페페", "Pepe"],
  LINK: ["체인링크", "Chainlink"],
  TRX: ["트론", "TRON"],
  ETC: ["이더리움클래식", "Ethereum Classic"],
  AVAX: ["아발란체", "Avalanche"],
  DOT: ["폴카닷", "Polkadot"],
  ATOM: ["코스모스", "Cosmos"],
  AAVE: ["에이브", "Aave"],
  UNI: ["유니스왑", "Uniswap"],
  HBAR: ["헤데라", "Hedera"],
  POLYX: ["폴리매쉬", "Polymesh"],
  SAND: ["샌드박스", "The Sandbox"],
  MANA: ["디센트럴랜드", "Decentraland"],
  ALGO: ["알고랜드", "Algorand"],
};

/** Korean spelling of each letter and digit, for generic names of the less-known bases. */
const KOREAN_CHARACTER_NAMES: Readonly<Record<string, string>> = {
  A: "에이", B: "비", C: "씨", D: "디", E: "이", F: "에프", G: "지", H: "에이치", I: "아이",
  J: "제이", K: "케이", L: "엘", M: "엠", N: "엔", O: "오", P: "피", Q: "큐", R: "알", S: "에스",
  T: "티", U: "유", V: "브이", W: "더블유", X: "엑스", Y: "와이", Z: "제트",
  "0": "영", "1": "원", "2": "투", "3": "쓰리", "4": "포", "5": "파이브", "6": "식스",
  "7": "세븐", "8": "에잇", "9": "나인",
};

export function buildMarketUniverse(options: MarketUniverseOptions): SimMarket[] {
  const krwCount = options.krwMarkets ?? DEFAULT_KRW_MARKETS;
  const btcCount = options.btcMarkets ?? DEFAULT_BTC_MARKETS;
  const usdtCount = options.usdtMarkets ?? DEFAULT_USDT_MARKETS;
  for (const [name, value] of [["krwMarkets", krwCount], ["btcMarkets", btcCount], ["usdtMarkets", usdtCount]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  const anchorMs = Math.floor(options.nowMs / DAY_MS) * DAY_MS;
  const seed = options.seed;

  const krwBases = basesWithKrwPrice(krwCount, seed);
  const crossBases = RECORDED_KRW_BASES.filter(([base]) => base !== "BTC" && !STABLECOINS.has(base));
  const usdtBases = RECORDED_KRW_BASES.filter(([base]) => !STABLECOINS.has(base));
  if (btcCount > crossBases.length || usdtCount > usdtBases.length) {
    throw new RangeError(`at most ${crossBases.length} BTC and ${usdtBases.length} USDT markets are available`);
  }
  const markets: SimMarket[] = [];
  krwBases.forEach(([base, price], rank) => markets.push(makeMarket(seed, anchorMs, "KRW", base, price, rank)));
  crossBases.slice(0, btcCount).forEach(([base, krwPrice], rank) =>
    markets.push(makeMarket(seed, anchorMs, "BTC", base, Math.max(MIN_BTC_QUOTED_PRICE, krwPrice / KRW_PER_BTC), rank)),
  );
  usdtBases.slice(0, usdtCount).forEach(([base, krwPrice], rank) =>
    markets.push(makeMarket(seed, anchorMs, "USDT", base, Math.max(MIN_USDT_QUOTED_PRICE, krwPrice / KRW_PER_USDT), rank)),
  );
  ensureRecentListing(markets, seed, anchorMs);
  return markets;
}

/** The recorded bases, then synthetic ones (`SIM245`, ...) with a random price of 1..5,000 KRW. */
function basesWithKrwPrice(count: number, seed: number): Array<readonly [string, number]> {
  const bases: Array<readonly [string, number]> = RECORDED_KRW_BASES.slice(0, count);
  for (let n = bases.length + 1; bases.length < count; n++) {
    const base = `SIM${n}`;
    bases.push([base, Math.exp(unitHash(seed, base, 11) * Math.log(5_000))]);
  }
  return bases;
}

function makeMarket(seed: number, anchorMs: number, quote: QuoteCurrency, base: string, price: number, rank: number): SimMarket {
  const code = `${quote}-${base}`;
  const tickSize = tickSizeFor(quote, price);
  const referencePrice = roundToTick(price, tickSize);
  // At most the quote's top rate, so the busiest market stays at ~30 trades/min.
  const jitter = 0.8 + 0.2 * unitHash(seed, code, 1);
  const tradesPerMinute =
    (TOP_TRADES_PER_MINUTE[quote] * jitter) / Math.pow(1 + rank / LIQUIDITY_RANK_SCALE[quote], LIQUIDITY_EXPONENT);
  const protectedRank = rank < PROTECTED_TOP_RANKS;
  const recent = !protectedRank && Math.floor(unitHash(seed, code, 2) * RECENT_LISTING_ONE_IN) === 0;
  const [koreanName, englishName] = namesOf(base);
  const flag = (salt: number, p: number): boolean => !protectedRank && unitHash(seed, code, salt) < p;
  return {
    code,
    quote,
    base,
    koreanName,
    englishName,
    tradesPerMinute: Math.round(tradesPerMinute * 1e6) / 1e6,
    referencePrice,
    tickSize,
    supportedLevels: supportedLevelsFor(quote, tickSize),
    listedAtMs: listingTime(seed, code, anchorMs, recent),
    warning: flag(3, WARNING_PROBABILITY),
    caution: {
      PRICE_FLUCTUATIONS: flag(4, CAUTION_FLAG_PROBABILITY),
      TRADING_VOLUME_SOARING: flag(5, CAUTION_FLAG_PROBABILITY),
      DEPOSIT_AMOUNT_SOARING: flag(6, CAUTION_FLAG_PROBABILITY),
      GLOBAL_PRICE_DIFFERENCES: flag(7, CAUTION_FLAG_PROBABILITY),
      CONCENTRATION_OF_SMALL_ACCOUNTS: flag(8, CAUTION_FLAG_PROBABILITY),
    },
  };
}

/**
 * Listing time: established markets 3..8 years before the anchor, recent ones 30..200 days; at an
 * arbitrary millisecond so the first minute holds only part of its trades.
 */
function listingTime(seed: number, code: string, anchorMs: number, recent: boolean): number {
  const age = recent
    ? RECENT_MIN_AGE_MS + unitHash(seed, code, 9) * RECENT_AGE_SPREAD_MS
    : MIN_ESTABLISHED_AGE_MS + unitHash(seed, code, 9) * ESTABLISHED_AGE_SPREAD_MS;
  const minuteStart = Math.floor((anchorMs - age) / MINUTE_MS) * MINUTE_MS;
  return minuteStart + Math.floor(unitHash(seed, code, 10) * MINUTE_MS);
}

/** A universe with more than a handful of KRW pairs always has one recent listing to test with. */
function ensureRecentListing(markets: SimMarket[], seed: number, anchorMs: number): void {
  const krw = markets.filter((m) => m.quote === "KRW");
  if (krw.length <= PROTECTED_TOP_RANKS) return;
  const recentCutoff = anchorMs - MIN_ESTABLISHED_AGE_MS;
  if (krw.some((m) => m.listedAtMs > recentCutoff)) return;
  const pick = krw[PROTECTED_TOP_RANKS + Math.floor(unitHash(seed, "recent", 12) * (krw.length - PROTECTED_TOP_RANKS))];
  if (pick === undefined) return;
  const index = markets.indexOf(pick);
  markets[index] = { ...pick, listedAtMs: listingTime(seed, pick.code, anchorMs, true) };
}

function namesOf(base: string): readonly [string, string] {
  const known = KNOWN_NAMES[base];
  if (known !== undefined) return known;
  const korean = [...base].map((c) => KOREAN_CHARACTER_NAMES[c] ?? c).join("");
  const english = base.length <= 3 ? base : base[0] + base.slice(1).toLowerCase();
  return [korean, english];
}

/**
 * Upbit's tick for a price: KRW by price band (API.md §6.2: 1,000 at or above 1,000,000 KRW down
 * to 1 from 100 KRW, then ten times finer per decade); BTC always one satoshi; USDT 0.01 from 10
 * USDT, then ten times finer per decade.
 */
export function tickSizeFor(quote: QuoteCurrency, price: number): number {
  if (quote === "BTC") return 0.00000001;
  if (quote === "KRW") {
    for (const [floor, tick] of KRW_TICK_BANDS) if (price >= floor) return tick;
    return decimalTick(price, 100, 0);
  }
  return decimalTick(price, 10, 2);
}

const KRW_TICK_BANDS: ReadonlyArray<readonly [number, number]> = [
  [1_000_000, 1_000], [500_000, 500], [100_000, 100], [50_000, 50], [10_000, 10], [5_000, 5], [100, 1],
];

/**
 * Below `top` (where the tick has `topDecimals` decimals), one more decimal per decade down, to at
 * most 8 decimals (Upbit's precision).
 */
function decimalTick(price: number, top: number, topDecimals: number): number {
  let decimals = topDecimals;
  for (let bound = top; price < bound && decimals < 8; bound /= 10) decimals++;
  return Number(`1e-${decimals}`);
}

/** Nearest multiple of `tick` (at least one tick), computed so decimal ticks give clean decimals. */
export function roundToTick(price: number, tick: number): number {
  const p = tick >= 1 ? Math.round(price / tick) * tick : Math.round(price * Math.round(1 / tick)) / Math.round(1 / tick);
  return Math.max(p, tick);
}

/** KRW pairs: native tick plus tick × 10^1..10^5 (KRW-BTC: 10,000 ... 100,000,000); others `"0"` only. */
function supportedLevelsFor(quote: QuoteCurrency, tick: number): string[] {
  if (quote !== "KRW") return ["0"];
  const levels = ["0"];
  const decimals = tick >= 1 ? 0 : Math.round(-Math.log10(tick));
  for (let power = 1; power <= 5; power++) {
    const level = tick * Math.pow(10, power);
    levels.push(level >= 1 ? String(Math.round(level)) : level.toFixed(decimals - power));
  }
  return levels;
}

/** Uniform [0, 1) from (seed, code, salt): FNV-1a over the code, mixed with seed and salt. */
function unitHash(seed: number, code: string, salt: number): number {
  let h = 0x811c9dc5 ^ (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296), 0x27d4eb2d);
  for (let i = 0; i < code.length; i++) h = Math.imul(h ^ code.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ Math.imul(salt + 1, 0x9e3779b1), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
