#!/usr/bin/env python3
"""A chart viewer's view of the backbone: the most recent candles of one market with GetCandles
(count form) at PRIORITY_NORMAL, as a chart would load its first screen.

  /usr/bin/python3 examples/python/chart_candles.py --market KRW-BTC

Prints a short summary, then (as its last line) the same as one JSON object.
"""

from __future__ import annotations

import argparse
from typing import Any

from backbone_client import DEFAULT_GATEWAY, TIMEFRAMES, connect, iso_ms, pb, run


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Load chart candles (GetCandles, count form, PRIORITY_NORMAL).")
    p.add_argument("--gateway", default=DEFAULT_GATEWAY, help=f"gateway address HOST:PORT (default {DEFAULT_GATEWAY})")
    p.add_argument("--market", default="KRW-BTC", help="market code (default KRW-BTC)")
    p.add_argument("--timeframe", choices=TIMEFRAMES, default="1m", help="candle timeframe (default 1m)")
    p.add_argument("--count", type=int, default=1000, help="most recent closed candles to load (default 1000)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="deadline of the call (default 60); DEADLINE_EXCEEDED after it")
    args = p.parse_args()
    if args.count < 1:
        p.error("--count must be 1 or more")
    return args


def main() -> dict[str, Any]:
    args = parse_args()
    channel, stub = connect(args.gateway)
    try:
        response = stub.GetCandles(
            pb.GetCandlesRequest(
                market=args.market,
                timeframe=TIMEFRAMES[args.timeframe],
                count=args.count,
                priority=pb.PRIORITY_NORMAL,
            ),
            timeout=args.timeout,
        )
    finally:
        channel.close()

    candles = response.candles
    meta = response.meta
    times = [c.time_ms for c in candles]
    summary: dict[str, Any] = {
        "market": args.market,
        "timeframe": args.timeframe,
        "candles": len(candles),
        # The server promises ascending times without duplicates; a chart relies on it, so check.
        "ascending": all(a < b for a, b in zip(times, times[1:])),
        "first_ms": times[0] if times else None,
        "last_ms": times[-1] if times else None,
        "last_close": candles[-1].close if candles else None,
        "source": pb.Source.Name(meta.source),
        "upstream_calls": meta.upstream_calls,
        "complete": meta.complete,
        "gaps": len(meta.gaps),
    }
    print(f"{args.market} {args.timeframe}: {len(candles)} candles", flush=True)
    if candles:
        print(f"  from {iso_ms(times[0])} to {iso_ms(times[-1])}, last close {candles[-1].close:,.10g}")
    print(f"  served from {summary['source']} with {meta.upstream_calls} upstream calls, "
          f"complete={meta.complete}, {len(meta.gaps)} gaps", flush=True)
    return summary


if __name__ == "__main__":
    run("chart", main)
