import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";

const dir = mkdtempSync(join(tmpdir(), "mdb-gateway-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed P-256 certificate and its key, made by the openssl CLI (Debian package `openssl`). */
function selfSigned(name: string, days = 2): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", String(days), "-subj", "/CN=localhost"], { stdio: "ignore" });
  return { cert, key };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("gateway config", () => {
  it("defaults to 127.0.0.1:50051 and info logs", () => {
    expect(loadGatewayConfig({})).toMatchObject({
      listen: "127.0.0.1:50051",
      remote: false,
      storageAddress: "127.0.0.1:50052",
      upstream: { restUrl: "https://api.upbit.com", wsUrl: "wss://api.upbit.com/websocket/v1" },
      maxUnaryCandles: 20_000,
      upstreamRetryWindowMs: 30_000,
      maxMarketsPerCall: 2_000,
      maxStreamsPerClient: 1_000,
      realtime: { graceMs: 10_000, autoSubscribe: { reads: 5, windowMs: 10_000 } },
      logLevel: "info",
    });
    const config = loadGatewayConfig({});
    expect(config.tls).toBeUndefined();
    expect(config.apiKeys).toBeUndefined();
  });

  it.each([
    [{ BACKBONE_LISTEN: "50051" }, /BACKBONE_LISTEN="50051": must be host:port/],
    [{ BACKBONE_LISTEN: "127.0.0.1:99999" }, /BACKBONE_LISTEN="127.0.0.1:99999": must be host:port/],
    [{ BACKBONE_STORAGE_LISTEN: "0.0.0.0:50052" }, /BACKBONE_STORAGE_LISTEN="0.0.0.0:50052": must be unix/],
    [{ BACKBONE_MAX_CANDLES: "-5" }, /BACKBONE_MAX_CANDLES="-5": must be a positive integer/],
    [{ BACKBONE_STREAM_GRACE_MS: "soon" }, /BACKBONE_STREAM_GRACE_MS="soon": must be a positive integer/],
    [{ BACKBONE_UPSTREAM_RETRY_WINDOW_MS: "0" }, /BACKBONE_UPSTREAM_RETRY_WINDOW_MS="0": must be a positive integer/],
    [{ BACKBONE_LOG_LEVEL: "loud" }, /BACKBONE_LOG_LEVEL="loud": must be (debug, )?info, warn, error or silent/],
    [{ BACKBONE_ALLOW_REMOTE: "yes" }, /BACKBONE_ALLOW_REMOTE="yes": must be 1/],
    [{ BACKBONE_MAX_MARKETS_PER_CALL: "0" }, /BACKBONE_MAX_MARKETS_PER_CALL="0": must be a positive integer/],
    [{ BACKBONE_MAX_MARKETS_PER_CALL: "2001" }, /BACKBONE_MAX_MARKETS_PER_CALL="2001": must be at most 2000/],
    [{ BACKBONE_MAX_STREAMS_PER_CLIENT: "many" }, /BACKBONE_MAX_STREAMS_PER_CLIENT="many": must be a positive integer/],
  ])("refuses %o, naming the variable", (env, message) => {
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });

  it("takes the markets-per-call and streams-per-client limits", () => {
    expect(loadGatewayConfig({ BACKBONE_MAX_MARKETS_PER_CALL: "50", BACKBONE_MAX_STREAMS_PER_CLIENT: "3" })).toMatchObject({ maxMarketsPerCall: 50, maxStreamsPerClient: 3 });
  });

  describe("listen address", () => {
    it.each(["127.0.0.1:50051", "127.0.0.2:0", "localhost:50051", "[::1]:50051", "::1:50051"])("serves %s (loopback) without further ado", (listen) => {
      expect(loadGatewayConfig({ BACKBONE_LISTEN: listen })).toMatchObject({ listen, remote: false });
    });

    it.each(["0.0.0.0:50051", "[::]:50051", "192.168.1.20:50051", "10.0.0.1:50051", "gateway.example:50051", "127.0.0.1.example:50051"])(
      "refuses %s unless BACKBONE_ALLOW_REMOTE=1",
      (listen) => {
        expect(() => loadGatewayConfig({ BACKBONE_LISTEN: listen })).toThrow(`BACKBONE_LISTEN=${JSON.stringify(listen)}: is not a loopback address; set BACKBONE_ALLOW_REMOTE=1`);
        expect(() => loadGatewayConfig({ BACKBONE_LISTEN: listen, BACKBONE_ALLOW_REMOTE: "0" })).toThrow(/BACKBONE_ALLOW_REMOTE=1/);
        expect(loadGatewayConfig({ BACKBONE_LISTEN: listen, BACKBONE_ALLOW_REMOTE: "1" })).toMatchObject({ listen, remote: true });
      },
    );
  });

  describe("TLS", () => {
    const pair = selfSigned("gateway");
    const other = selfSigned("other");

    it("reads the certificate chain and key", () => {
      const config = loadGatewayConfig({ BACKBONE_TLS_CERT: pair.cert, BACKBONE_TLS_KEY: pair.key });
      expect(config.tls?.certChain.toString()).toContain("BEGIN CERTIFICATE");
      expect(config.tls?.privateKey.toString()).toContain("PRIVATE KEY");
    });

    it.each([
      [() => ({ BACKBONE_TLS_CERT: pair.cert }), /BACKBONE_TLS_KEY="": must be set with BACKBONE_TLS_CERT \(both or neither\)/],
      [() => ({ BACKBONE_TLS_KEY: pair.key }), /BACKBONE_TLS_CERT="": must be set with BACKBONE_TLS_KEY \(both or neither\)/],
      [() => ({ BACKBONE_TLS_CERT: join(dir, "missing.crt"), BACKBONE_TLS_KEY: pair.key }), /BACKBONE_TLS_CERT=".*missing.crt": cannot be read \(ENOENT\)/],
      [() => ({ BACKBONE_TLS_CERT: pair.cert, BACKBONE_TLS_KEY: dir }), /BACKBONE_TLS_KEY=".*": cannot be read \(EISDIR\)/],
      [() => ({ BACKBONE_TLS_CERT: pair.key, BACKBONE_TLS_KEY: pair.key }), /BACKBONE_TLS_CERT=".*gateway.key": is not a PEM certificate/],
      [() => ({ BACKBONE_TLS_CERT: pair.cert, BACKBONE_TLS_KEY: pair.cert }), /BACKBONE_TLS_KEY=".*gateway.crt": is not a PEM private key/],
      [() => ({ BACKBONE_TLS_CERT: pair.cert, BACKBONE_TLS_KEY: other.key }), /BACKBONE_TLS_KEY=".*other.key": is not the key of the certificate in BACKBONE_TLS_CERT/],
    ])("refuses a wrong pair, naming the variable (%#)", (env, message) => {
      expect(() => loadGatewayConfig(env())).toThrow(message);
    });

    it("refuses an expired certificate", () => {
      const inThreeDays = Date.now() + 3 * 86_400_000;
      expect(() => loadGatewayConfig({ BACKBONE_TLS_CERT: pair.cert, BACKBONE_TLS_KEY: pair.key }, inThreeDays)).toThrow(/BACKBONE_TLS_CERT=".*gateway.crt": expired on /);
    });
  });

  describe("API keys file", () => {
    it("reads the keys, keeping only their digests", () => {
      const path = file("keys", "# key max_priority name\nchart-ui-key-0123456789 NORMAL chart-ui\n\nbot-key-abcdefghijklmnop CRITICAL bot\n");
      const config = loadGatewayConfig({ BACKBONE_API_KEYS_FILE: path });
      expect(config.apiKeys?.map((k) => [k.name, k.maxPriority, k.line])).toEqual([
        ["chart-ui", "NORMAL", 2],
        ["bot", "CRITICAL", 4],
      ]);
      expect(JSON.stringify(config)).not.toContain("chart-ui-key-0123456789");
    });

    it("refuses a file it cannot read, or a malformed one, naming the line", () => {
      expect(() => loadGatewayConfig({ BACKBONE_API_KEYS_FILE: join(dir, "no-such-keys") })).toThrow(/BACKBONE_API_KEYS_FILE=".*no-such-keys": cannot be read \(ENOENT\)/);
      const bad = file("bad-keys", "chart-ui-key-0123456789 NORMAL chart-ui\nshort NORMAL other\n");
      expect(() => loadGatewayConfig({ BACKBONE_API_KEYS_FILE: bad })).toThrow(/BACKBONE_API_KEYS_FILE=".*bad-keys": line 2: the key \(field 1\) has 5 characters; keys need at least 16/);
    });
  });
});
