/**
 * What every public RPC passes before its handler runs: who calls (API key or peer), the priority
 * it may use, how many markets it may name, and for streams a slot of its client's quota. Each
 * handler then parses a request whose `priority` is already within the caller's ceiling, so every
 * RPC caps the same way and no handler needs to know about keys.
 */
import type { Priority as ProtoPriority } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { InvalidArgumentError } from "../../shared/errors.js";
import type { CallContext, Send } from "../../shared/grpc/handlers.js";
import type { CallerPolicy } from "../api-keys.js";
import { capPriority } from "../request-priority.js";
import { withPriorityCapped } from "../response-meta.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { StreamQuota } from "./stream-quota.js";

export const MARKETS_PER_CALL_VARIABLE = "BACKBONE_MAX_MARKETS_PER_CALL";

/** The request fields the guard reads; GetStatsRequest has neither. */
interface GuardedFields {
  priority?: ProtoPriority;
  markets?: readonly string[];
}

export interface CallGuardOptions {
  policy: CallerPolicy;
  streams: StreamQuota;
  /** Most distinct markets one call may name. */
  maxMarketsPerCall: number;
}

export class CallGuard {
  constructor(private readonly options: CallGuardOptions) {}

  /**
   * A unary handler behind the guard. `rpcDefault` is the priority the RPC gives an unspecified
   * one (undefined for an RPC without priority): it is capped like an asked one.
   */
  unary<Req extends object, Res>(rpcDefault: Priority | undefined, fn: (req: Req, ctx: CallContext) => Promise<Res>): (req: Req, ctx: CallContext) => Promise<Res> {
    return async (req, ctx) => {
      // Unary calls count against no per-client quota, so the peer does not matter here.
      const admitted = this.admit(req, ctx, "", rpcDefault);
      const res = await fn(admitted.request, ctx);
      return admitted.capped ? withPriorityCapped(res) : res;
    };
  }

  /** A server-streaming handler behind the guard; the stream holds a slot of its client's quota while it runs. */
  stream<Req extends object, Res>(
    peer: string,
    rpcDefault: Priority,
    fn: (req: Req, send: Send<Res>, ctx: CallContext) => Promise<void>,
  ): (req: Req, send: Send<Res>, ctx: CallContext) => Promise<void> {
    return async (req, send, ctx) => {
      const admitted = this.admit(req, ctx, peer, rpcDefault);
      const release = this.options.streams.acquire(admitted.client);
      try {
        await fn(admitted.request, admitted.capped ? (m) => send(withPriorityCapped(m)) : send, ctx);
      } finally {
        release();
      }
    };
  }

  private admit<Req extends object>(req: Req, ctx: CallContext, peer: string, rpcDefault: Priority | undefined): { request: Req; capped: boolean; client: string } {
    const caller = this.options.policy.identify(ctx.metadata, peer);
    const fields = req as GuardedFields;
    this.checkMarketCount(fields.markets);
    if (caller.ceiling === undefined || rpcDefault === undefined || fields.priority === undefined) return { request: req, capped: false, client: caller.client };
    const { value, capped } = capPriority(fields.priority, rpcDefault, caller.ceiling);
    return { request: capped ? { ...req, priority: value } : req, capped, client: caller.client };
  }

  private checkMarketCount(markets: readonly string[] | undefined): void {
    if (markets === undefined) return;
    const limit = this.options.maxMarketsPerCall;
    // A list no longer than the limit cannot name too many; only longer ones are counted.
    const distinct = markets.length <= limit ? markets.length : new Set(markets).size;
    if (distinct > limit) {
      throw new InvalidArgumentError("markets", `${distinct} distinct markets`, `is more than the ${limit} one call may name on this gateway (${MARKETS_PER_CALL_VARIABLE})`);
    }
  }
}
