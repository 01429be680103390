/**
 * The gateway's security settings end to end: real gateways on loopback (TLS, API keys, limits)
 * over one stack's simulator and storage daemon, real gRPC clients, and the gateway process
 * refusing to listen beyond loopback.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { credentials, InterceptingCall, type Interceptor, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MarketDataService, Priority, type StreamTickersResponse, Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { selfSignedCertificate } from "../support/self-signed-certificate.js";
import { createGateway, type Gateway } from "../../src/gateway/gateway.js";
import { UpbitRestClient } from "../../src/gateway/upstream/upbit-rest-client.js";
import { runCli } from "../../src/cli/run-cli.js";
import { createGrpcClient, type GrpcClient } from "../../src/shared/grpc/client.js";
import { silentLogger } from "../../src/shared/logger.js";
import { removeDir, tempDir } from "../support/daemon-process.js";
import { type Stack, startStack } from "../support/gateway-stack.js";
import { healthCheck, PUBLIC_SERVICE } from "../support/health-client.js";

const GATEWAY_MAIN = fileURLToPath(new URL("../../src/gateway/main.ts", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
/** Longest any wait for stream data or a state may take before the test fails instead of hanging. */
const WAIT_LIMIT_MS = 30_000;

const NORMAL_KEY = "chart-ui-0123456789abcdef";
const CRITICAL_KEY = "trading-bot-0123456789abcdef";
const LOW_KEY = "backtester-0123456789abcdef";

type Client = GrpcClient<typeof MarketDataService>;

/** Adds `authorization: Bearer KEY` (or `x-api-key: KEY`) to every call, as a client library would. */
function apiKey(key: string, header: "authorization" | "x-api-key" = "authorization"): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set(header, header === "authorization" ? `Bearer ${key}` : key);
        next(metadata, listener);
      },
    });
}

/** `mdb ARGS` in this process with `env`: its exit status and what it printed. */
async function mdb(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli({
    argv,
    env,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  return p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e as ServiceError,
  );
}

/** Reads a stream until its first message (the handler runs and holds its slot); the rest is drained by the caller's cancel. */
async function firstMessage<M>(stream: AsyncIterable<M>): Promise<M> {
  for await (const m of stream) return m;
  throw new Error("stream ended before its first message");
}

/** The status a stream fails with. */
async function streamFailure(stream: AsyncIterable<unknown>): Promise<ServiceError> {
  try {
    for await (const _ of stream) {
      // Not expected to yield.
    }
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error("expected the stream to fail");
}

describe("gateway security", () => {
  let stack: Stack;
  let dir: string;
  const gateways: Gateway[] = [];
  const clients: Client[] = [];

  /** Another gateway over the stack's simulator and daemon, configured by `env` as `npm start` would be. */
  async function startGateway(env: Record<string, string>): Promise<{ gateway: Gateway; address: string }> {
    const config = loadGatewayConfig({
      BACKBONE_LISTEN: "127.0.0.1:0",
      BACKBONE_STORAGE_LISTEN: stack.daemon.address,
      BACKBONE_DATA_DIR: stack.dataDir,
      UPBIT_REST_URL: stack.restUrl,
      UPBIT_WS_URL: stack.wsUrl,
      ...env,
    });
    const gateway = createGateway(config, { log: silentLogger, upbit: new UpbitRestClient({ baseUrl: stack.restUrl, logger: silentLogger }) });
    gateways.push(gateway);
    return { gateway, address: await gateway.start() };
  }

  function client(address: string, options: Parameters<typeof createGrpcClient>[2] = {}, channelCredentials = credentials.createInsecure()): Client {
    const c = createGrpcClient(MarketDataService, address, options, channelCredentials);
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    stack = await startStack();
    dir = tempDir("mdb-security-");
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(gateways.map((g) => g.stop(1_000)));
    await stack?.stop();
    if (dir) removeDir(dir);
  });

  describe("TLS", () => {
    let address: string;
    let cert: Buffer;

    beforeAll(async () => {
      const { certPath, keyPath } = selfSignedCertificate(dir);
      cert = readFileSync(certPath);
      ({ address } = await startGateway({ BACKBONE_TLS_CERT: certPath, BACKBONE_TLS_KEY: keyPath }));
    });

    it("answers a client that trusts its certificate", async () => {
      // The certificate names localhost; the address is 127.0.0.1 (an IP is no TLS server name).
      const tls = client(address, { "grpc.ssl_target_name_override": "localhost" }, credentials.createSsl(cert));
      const { markets, meta } = await tls.listMarkets({ quoteCurrencies: ["KRW"] });
      expect(markets.length).toBeGreaterThan(0);
      expect(meta?.priorityCapped).toBe(false);
    });

    it("lets mdb in with BACKBONE_GATEWAY_CA, by the host name the certificate names", async () => {
      const port = address.split(":").at(-1)!;
      const caFile = join(dir, "gateway.crt");
      const ok = await mdb({ BACKBONE_GATEWAY_CA: caFile }, "markets", "--gateway", `localhost:${port}`, "--format", "json");
      expect(ok.stderr).toBe("");
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('"KRW-BTC"');
      const missing = await mdb({ BACKBONE_GATEWAY_CA: join(dir, "nope.pem") }, "markets", "--gateway", `localhost:${port}`);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("BACKBONE_GATEWAY_CA: cannot read");
    });

    it("refuses a plaintext client and one that does not trust the certificate", async () => {
      const deadline = () => new Date(Date.now() + WAIT_LIMIT_MS);
      const plain = await failure(client(address).listMarkets({}, { deadline: deadline() }));
      expect(plain.code).toBe(status.UNAVAILABLE);
      const untrusting = await failure(client(address, { "grpc.ssl_target_name_override": "localhost" }, credentials.createSsl()).listMarkets({}, { deadline: deadline() }));
      expect(untrusting.code).toBe(status.UNAVAILABLE);
    });
  });

  describe("API keys", () => {
    let address: string;
    let gateway: Gateway;
    const keyed = (key: string, header?: "authorization" | "x-api-key") => client(address, { interceptors: [apiKey(key, header)] });

    beforeAll(async () => {
      const keysFile = join(dir, "api-keys");
      writeFileSync(keysFile, `# key max_priority name\n${NORMAL_KEY} NORMAL chart-ui\n${CRITICAL_KEY} CRITICAL trading-bot\n${LOW_KEY} LOW backtester\n`);
      ({ gateway, address } = await startGateway({ BACKBONE_API_KEYS_FILE: keysFile, BACKBONE_MAX_STREAMS_PER_CLIENT: "2", BACKBONE_MAX_MARKETS_PER_CALL: "3" }));
    });

    it("refuses a call without a key or with an unknown one UNAUTHENTICATED, never repeating the key", async () => {
      const none = await failure(client(address).listMarkets({}));
      expect(none.code).toBe(status.UNAUTHENTICATED);
      expect(none.details).toBe("missing API key: send `authorization: Bearer <key>` or `x-api-key: <key>`");
      const wrongKey = "chart-ui-0123456789abcdeX";
      const wrong = await failure(keyed(wrongKey).listMarkets({}));
      expect(wrong.code).toBe(status.UNAUTHENTICATED);
      expect(wrong.details).toBe("unknown API key");
      expect(JSON.stringify(wrong)).not.toContain(wrongKey);
      // GetStats and the streams are behind the key too.
      expect((await failure(client(address).getStats({}))).code).toBe(status.UNAUTHENTICATED);
      expect((await streamFailure(client(address).streamTickers({ markets: ["KRW-BTC"] }))).code).toBe(status.UNAUTHENTICATED);
    });

    it("lets mdb in with BACKBONE_API_KEY, and shows the gateway's refusal without it", async () => {
      const ok = await mdb({ BACKBONE_API_KEY: NORMAL_KEY }, "stats", "--gateway", address, "--format", "json");
      expect(ok.stderr).toBe("");
      expect(ok.code).toBe(0);
      const refused = await mdb({}, "stats", "--gateway", address);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("missing API key");
    });

    it("keeps health checks open without a key", async () => {
      expect(await healthCheck(address, "")).toBe("SERVING");
      expect(await healthCheck(address, PUBLIC_SERVICE)).toBe("SERVING");
    });

    it("serves a NORMAL key asking CRITICAL at NORMAL, and says so in the meta", async () => {
      const { meta } = await keyed(NORMAL_KEY).listMarkets({ priority: Priority.CRITICAL });
      expect(meta).toMatchObject({ priority: Priority.NORMAL, priorityCapped: true });
      const within = await keyed(NORMAL_KEY, "x-api-key").getTickers({ markets: ["KRW-BTC"], priority: Priority.LOW });
      expect(within.meta).toMatchObject({ priority: Priority.LOW, priorityCapped: false });
      // GetCandles' answer is encoded by hand: the flag must survive it.
      const candles = await keyed(NORMAL_KEY).getCandles({ market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, count: 5, priority: Priority.HIGH });
      expect(candles.candles).toHaveLength(5);
      expect(candles.meta).toMatchObject({ priority: Priority.NORMAL, priorityCapped: true });
      // Unspecified is the RPC's default (NORMAL), capped like an asked priority.
      const unspecified = await keyed(LOW_KEY).getOrderbooks({ markets: ["KRW-BTC"] });
      expect(unspecified.meta).toMatchObject({ priority: Priority.LOW, priorityCapped: true });
    });

    it("serves a CRITICAL key at CRITICAL", async () => {
      const { meta } = await keyed(CRITICAL_KEY).listMarkets({ priority: Priority.CRITICAL });
      expect(meta).toMatchObject({ priority: Priority.CRITICAL, priorityCapped: false });
      const stats = await keyed(CRITICAL_KEY).getStats({});
      expect(stats.gateway).toBeDefined();
    });

    it("caps a range fetch's batches and flags the meta of each market's last batch", async () => {
      const end = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
      const batches = [];
      for await (const b of keyed(NORMAL_KEY).fetchCandleRange({ markets: ["KRW-BTC"], timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - 10 * 60_000), endMs: BigInt(end), priority: Priority.HIGH })) {
        batches.push(b);
      }
      const last = batches.at(-1)?.batch;
      expect(last?.meta).toMatchObject({ priority: Priority.NORMAL, priorityCapped: true });
    });

    it("refuses more markets than BACKBONE_MAX_MARKETS_PER_CALL in every RPC that names markets, quote currencies included", async () => {
      const four = ["KRW-BTC", "KRW-ETH", "KRW-XRP", "KRW-ICP"];
      const bot = keyed(CRITICAL_KEY);
      const message = "markets: 4 distinct markets is more than the 3 one call may name on this gateway (BACKBONE_MAX_MARKETS_PER_CALL)";
      for (const e of [
        await failure(bot.getTickers({ markets: four })),
        await failure(bot.getTrades({ markets: four })),
        await streamFailure(bot.fetchCandleRange({ markets: four, timeframe: Timeframe.MINUTE_1, startMs: 1_700_000_000_000n, endMs: 1_700_000_600_000n })),
        await streamFailure(bot.streamTrades({ markets: four })),
      ]) {
        expect(e.code).toBe(status.INVALID_ARGUMENT);
        expect(e.details).toBe(message);
      }
      expect((await bot.getTickers({ markets: four.slice(0, 3) })).tickers).toHaveLength(3);
      const quote = await failure(bot.getTickers({ quoteCurrencies: ["KRW"] }));
      expect(quote.code).toBe(status.INVALID_ARGUMENT);
      expect(quote.details).toMatch(/^markets: \d+ distinct markets is more than the 3 one request may name on this gateway \(BACKBONE_MAX_MARKETS_PER_CALL\)$/);
    });

    it("holds each key to BACKBONE_MAX_STREAMS_PER_CLIENT streams, capping their priority, and counts a stream that ended out", async () => {
      const chart = keyed(NORMAL_KEY);
      const open = [new AbortController(), new AbortController()];
      const streams = open.map((abort) => chart.streamTickers({ markets: ["KRW-BTC"], priority: Priority.CRITICAL }, { signal: abort.signal }));
      const firsts: StreamTickersResponse[] = await Promise.all(streams.map((s) => firstMessage(s)));
      expect(firsts.map((m) => m.ticker?.market)).toEqual(["KRW-BTC", "KRW-BTC"]);
      // The hub serves them at the key's ceiling.
      expect(gateway.deps.hub.stats().subscribers.map((s) => s.priority)).toEqual(["NORMAL", "NORMAL"]);

      const third = await streamFailure(chart.streamTickers({ markets: ["KRW-ETH"] }));
      expect(third.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(third.details).toBe('API key "chart-ui" has 2 streams open, the most one client may (BACKBONE_MAX_STREAMS_PER_CLIENT=2); close one first');
      // Another key is another client.
      const botAbort = new AbortController();
      await firstMessage(keyed(CRITICAL_KEY).streamTickers({ markets: ["KRW-BTC"] }, { signal: botAbort.signal }));
      botAbort.abort();

      // Once a stream ends, its slot is free again (the handler ends shortly after the cancel).
      open[0]!.abort();
      const again = new AbortController();
      try {
        await vi.waitFor(
          async () => {
            const attempt = new AbortController();
            try {
              await firstMessage(chart.streamTickers({ markets: ["KRW-BTC"] }, { signal: attempt.signal }));
            } catch (e) {
              attempt.abort();
              throw e;
            }
            again.signal.addEventListener("abort", () => attempt.abort());
          },
          { timeout: WAIT_LIMIT_MS, interval: 50 },
        );
      } finally {
        again.abort();
        open[1]!.abort();
      }
    });
  });

  it("holds a peer to BACKBONE_MAX_STREAMS_PER_CLIENT streams when no keys are configured", async () => {
    const { address } = await startGateway({ BACKBONE_MAX_STREAMS_PER_CLIENT: "1" });
    const a = client(address);
    const b = client(address);
    const abort = new AbortController();
    try {
      await firstMessage(a.streamTickers({ markets: ["KRW-BTC"] }, { signal: abort.signal }));
      // Another connection from the same host is the same client.
      const refused = await streamFailure(b.streamOrderbooks({ markets: ["KRW-BTC"] }));
      expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(refused.details).toBe("peer 127.0.0.1 has 1 streams open, the most one client may (BACKBONE_MAX_STREAMS_PER_CLIENT=1); close one first");
      // Unary calls are not streams.
      expect((await b.listMarkets({})).markets.length).toBeGreaterThan(0);
    } finally {
      abort.abort();
    }
  });

  it("refuses to start on a non-loopback address without BACKBONE_ALLOW_REMOTE=1, naming it", async () => {
    const child = spawn(process.execPath, ["--import", TSX, GATEWAY_MAIN], {
      cwd: dir,
      env: { ...process.env, BACKBONE_LISTEN: "0.0.0.0:50051", BACKBONE_ALLOW_REMOTE: "", BACKBONE_DATA_DIR: join(dir, "data") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = await new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    expect(exited).toBe(1);
    expect(stderr).toContain('gateway: BACKBONE_LISTEN="0.0.0.0:50051": is not a loopback address; set BACKBONE_ALLOW_REMOTE=1');
  });
});
