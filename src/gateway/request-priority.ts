import { Path, Priority as ProtoPriority } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { InvalidArgumentError } from "../shared/errors.js";
import { PRIORITIES, type Priority } from "./upstream/rate-limiter.js";

/** What PRIORITY_UNSPECIFIED means, unless an RPC documents another default. */
export const DEFAULT_PRIORITY: Priority = "NORMAL";

const FROM_PROTO: Readonly<Record<number, Priority>> = {
  [ProtoPriority.CRITICAL]: "CRITICAL",
  [ProtoPriority.HIGH]: "HIGH",
  [ProtoPriority.NORMAL]: "NORMAL",
  [ProtoPriority.LOW]: "LOW",
};

const TO_PROTO: Readonly<Record<Priority, ProtoPriority>> = {
  CRITICAL: ProtoPriority.CRITICAL,
  HIGH: ProtoPriority.HIGH,
  NORMAL: ProtoPriority.NORMAL,
  LOW: ProtoPriority.LOW,
};

const PATH_OF: Readonly<Record<Priority, Path>> = {
  CRITICAL: Path.CRITICAL,
  HIGH: Path.STANDARD,
  NORMAL: Path.STANDARD,
  LOW: Path.PROTECTED,
};

/** The request's priority; PRIORITY_UNSPECIFIED means `fallback`; an unknown number is INVALID_ARGUMENT. */
export function priorityFromProto(value: ProtoPriority, fallback: Priority = DEFAULT_PRIORITY, field = "priority"): Priority {
  if (value === ProtoPriority.UNSPECIFIED) return fallback;
  const p = FROM_PROTO[value];
  if (p === undefined) throw new InvalidArgumentError(field, String(value), "is not a Priority: expected 1 (CRITICAL), 2 (HIGH), 3 (NORMAL) or 4 (LOW)");
  return p;
}

/**
 * A request's priority field under a caller's `ceiling`: a priority above it (or an unspecified
 * one whose RPC default `fallback` is above it) becomes the ceiling, with `capped` set; anything
 * else is left as it is, including a number that is no Priority, which the RPC's parser refuses.
 */
export function capPriority(value: ProtoPriority, fallback: Priority, ceiling: Priority): { value: ProtoPriority; capped: boolean } {
  const asked = value === ProtoPriority.UNSPECIFIED ? fallback : FROM_PROTO[value];
  if (asked === undefined || PRIORITIES.indexOf(asked) >= PRIORITIES.indexOf(ceiling)) return { value, capped: false };
  return { value: TO_PROTO[ceiling], capped: true };
}

export function priorityToProto(p: Priority): ProtoPriority {
  return TO_PROTO[p];
}

/** The scheduler path a priority takes. */
export function pathOf(p: Priority): Path {
  return PATH_OF[p];
}
