/**
 * Subscribers for the streams bench: StreamTickers / StreamOrderbooks calls made with Node's bare
 * HTTP/2 client instead of grpc-js. Two reasons:
 * - Each chunk is stamped the moment it reaches JavaScript and only the key fields are read
 *   (streams-proto-scan), so a process can take thousands of subscribers' traffic without its own
 *   backlog showing up as gateway latency.
 * - A subscriber can really stop reading: a paused HTTP/2 stream stops granting flow-control
 *   window, so the gateway sees a stalled client (a paused grpc-js call keeps reading and
 *   buffering the messages itself).
 */
import http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { create, toBinary } from "@bufbuild/protobuf";
import { StreamOrderbooksRequestSchema, StreamTickersRequestSchema, MarketDataService, Priority } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { grpcServiceDefinition } from "../src/shared/grpc/service-definition.js";
import { type ScannedUpdate, scanStreamResponse, type StreamKind } from "./streams-proto-scan.js";

/** Monotonic clock shared by every process of the machine (CLOCK_MONOTONIC), ms. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
/** Wall clock with sub-ms resolution, for comparing with the simulator's UTC-ms stamps. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export interface ReadersSpec {
  /** The gateway's `host:port`. */
  address: string;
  kind: StreamKind;
  markets: readonly string[];
  /** Order books only: levels per side. */
  depth: number;
  count: number;
  /** Subscribers sharing one HTTP/2 connection, as several streams of one client would. */
  streamsPerConnection: number;
  onUpdate(update: ScannedUpdate, receivedMonoMs: number, receivedWallMs: number): void;
}

export interface Readers {
  /** Every subscriber has received the snapshot of each of its markets. */
  ready: Promise<void>;
  /** Stops reading every stream: no more flow-control window for the gateway. */
  stall(): void;
  errors(): string[];
  close(): Promise<void>;
}

const services = grpcServiceDefinition(MarketDataService);
const GRPC_PREFIX = 5;

function requestFrame(spec: ReadersSpec): Buffer {
  const body =
    spec.kind === "ticker"
      ? toBinary(StreamTickersRequestSchema, create(StreamTickersRequestSchema, { markets: [...spec.markets], priority: Priority.NORMAL }))
      : toBinary(StreamOrderbooksRequestSchema, create(StreamOrderbooksRequestSchema, { markets: [...spec.markets], depth: spec.depth, priority: Priority.NORMAL }));
  const frame = Buffer.alloc(GRPC_PREFIX + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, GRPC_PREFIX);
  return frame;
}

export function openReaders(spec: ReadersSpec): Readers {
  const path = (spec.kind === "ticker" ? services.streamTickers : services.streamOrderbooks)!.path;
  const frame = requestFrame(spec);
  const sessions: http2.ClientHttp2Session[] = [];
  const streams: http2.ClientHttp2Stream[] = [];
  const errors: string[] = [];
  const readies: Promise<void>[] = [];

  for (let i = 0; i < spec.count; i++) {
    if (i % spec.streamsPerConnection === 0) {
      const session = http2.connect(`http://${spec.address}`);
      session.on("error", (e) => errors.push(`session: ${e.message}`));
      sessions.push(session);
    }
    const session = sessions[sessions.length - 1]!;
    const call = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    streams.push(call);
    readies.push(
      new Promise<void>((resolve, reject) => {
        const snapshots = new Set<string>();
        let pending: Buffer | undefined;
        call.on("error", (e) => errors.push(`stream: ${e.message}`));
        call.on("trailers", (t) => {
          if (t["grpc-status"] !== "0") errors.push(`grpc-status ${String(t["grpc-status"])}: ${String(t["grpc-message"])}`);
        });
        call.on("close", () => reject(new Error(`a subscriber's stream closed before its snapshots: ${errors.at(-1) ?? "no error"}`)));
        call.on("data", (chunk: Buffer) => {
          const mono = monotonicMs();
          const wall = wallMs();
          let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
          let at = 0;
          while (buf.length - at >= GRPC_PREFIX) {
            const len = buf.readUInt32BE(at + 1);
            if (buf.length - at - GRPC_PREFIX < len) break;
            const update = scanStreamResponse(spec.kind, buf, at + GRPC_PREFIX, at + GRPC_PREFIX + len);
            at += GRPC_PREFIX + len;
            if (update.snapshot) {
              snapshots.add(update.market);
              if (snapshots.size === spec.markets.length) resolve();
            } else spec.onUpdate(update, mono, wall);
          }
          buf = buf.subarray(at);
          pending = buf.length > 0 ? Buffer.from(buf) : undefined;
        });
        call.end(frame);
      }),
    );
  }

  const ready = Promise.all(readies).then(() => undefined);
  // Reported through `ready`; a later close (cancel) must not be an unhandled rejection.
  for (const r of readies) r.catch(() => undefined);
  return {
    ready,
    stall: () => {
      for (const s of streams) s.pause();
    },
    errors: () => [...errors],
    close: async () => {
      for (const s of streams) if (!s.closed) s.close(http2.constants.NGHTTP2_CANCEL);
      await Promise.all(
        sessions.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.closed || s.destroyed) return resolve();
              s.once("close", () => resolve());
              s.close();
            }),
        ),
      );
    },
  };
}
