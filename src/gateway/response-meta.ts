import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type GapReason, type ResponseMeta, ResponseMetaSchema, Source } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import type { Priority } from "./upstream/rate-limiter.js";
import { pathOf, priorityToProto } from "./request-priority.js";

export interface MetaGap {
  start: number;
  end: number;
  reason: GapReason;
  detail: string;
}

/**
 * Collects, while a request is served, what its ResponseMeta will say: which sources answered,
 * how many upstream calls and windows it took, and what could not be verified.
 */
export class MetaRecorder {
  private readonly startedAt = performance.now();
  private local = false;
  private cache = false;
  private upstream = false;
  upstreamCalls = 0;
  splits = 0;
  readonly gaps: MetaGap[] = [];

  constructor(readonly priority: Priority) {}

  servedFromStore(): void {
    this.local = true;
  }
  servedFromCache(): void {
    this.cache = true;
  }
  /** `calls` upstream REST calls answered part of the request. */
  servedFromUpstream(calls: number): void {
    this.upstream = true;
    this.upstreamCalls += calls;
  }
  /** A retry without the store: what the store answered before does not reach this answer. */
  forgetStore(): void {
    this.local = false;
    this.gaps.length = 0;
  }
  gap(gap: MetaGap): void {
    this.gaps.push(gap);
  }

  private source(): Source {
    const kinds = [this.local, this.cache, this.upstream].filter(Boolean).length;
    if (kinds > 1) return Source.MIXED;
    if (this.upstream) return Source.UPSTREAM;
    if (this.cache) return Source.REALTIME_CACHE;
    // Nothing to serve (e.g. an empty range) still came from the store's knowledge.
    return Source.STORE;
  }

  build(complete = this.gaps.length === 0): ResponseMeta {
    return create(ResponseMetaSchema, this.init(complete));
  }

  init(complete = this.gaps.length === 0): MessageInitShape<typeof ResponseMetaSchema> {
    return {
      source: this.source(),
      upstreamCalls: this.upstreamCalls,
      splits: this.splits,
      serverMs: performance.now() - this.startedAt,
      priority: priorityToProto(this.priority),
      path: pathOf(this.priority),
      complete,
      gaps: this.gaps.map((g) => ({ startMs: BigInt(g.start), endMs: BigInt(g.end), reason: g.reason, detail: g.detail })),
    };
  }
}

/**
 * `answer` with its ResponseMeta saying the priority was capped (`priority_capped`), for answers
 * whose request was lowered to the caller's ceiling; an answer without meta (a live stream's
 * update) is returned as it is. A copy: a meta may be shared with callers that were not capped.
 */
export function withPriorityCapped<T>(answer: T): T {
  if (typeof answer !== "object" || answer === null || !("meta" in answer)) return answer;
  const meta = answer.meta;
  if (typeof meta !== "object" || meta === null) return answer;
  return { ...answer, meta: { ...meta, priorityCapped: true } };
}
