/** The text `npm run demo` prints once everything listens: where things are and what to try. */
export interface DemoAddresses {
  gateway: string;
  storage: string;
  dataDir: string;
  simulatorRestUrl: string;
  /** Where the status page and /metrics are; undefined when they could not be served. */
  metrics: string | undefined;
}

const SERVICE = "backbone.marketdata.v1.MarketDataService";

export function tryNextText(a: DemoAddresses): string {
  const call = (method: string, body: string) => `grpcurl -plaintext -d '${body}' ${a.gateway} ${SERVICE}/${method}`;
  return [
    "",
    "market-data-backbone demo is running, offline: Upbit is simulated.",
    `  gateway (public gRPC API, plaintext)  ${a.gateway}`,
    `  storage daemon                        ${a.storage}   data in ${a.dataDir}`,
    `  Upbit simulator                       ${a.simulatorRestUrl}`,
    ...(a.metrics === undefined ? [] : [`  status page (and /metrics)            http://${a.metrics}/`]),
    "",
    "Try next (grpcurl finds the API through server reflection; no .proto files needed):",
    `  grpcurl -plaintext ${a.gateway} list`,
    `  grpcurl -plaintext ${a.gateway} describe ${SERVICE}`,
    `  grpcurl -plaintext ${a.gateway} grpc.health.v1.Health/Check`,
    `  ${call("ListMarkets", '{"quote_currencies":["KRW"]}')}`,
    `  ${call("GetCandles", '{"market":"KRW-BTC","timeframe":"TIMEFRAME_MINUTE_1","count":5}')}`,
    `  ${call("GetTickers", '{"markets":["KRW-BTC","KRW-ETH"]}')}`,
    `  curl '${a.simulatorRestUrl}/v1/ticker?markets=KRW-BTC'   # the simulated exchange itself`,
    "",
    "More in README.md (\"Running the demo\"). Ctrl-C stops all three.",
    "",
  ].join("\n");
}
