#!/usr/bin/env python3
"""A backtester's view of the backbone: bulk history with FetchCandleRange at PRIORITY_LOW. The
answer is a finite stream of columnar batches (one market per batch, markets one after the other,
ascending in time); the last batch of each market carries how that market was served.

  /usr/bin/python3 examples/python/backtest_fetch.py --markets KRW-BTC,KRW-ETH --timeframe 1m \\
      --from 2024-05-01T00:00:00Z --to 2024-05-02T00:00:00Z

Reports candles and gaps per market and the overall candles per second, then (as its last line)
the same as one JSON object.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from backbone_client import DEFAULT_GATEWAY, TIMEFRAMES, connect, iso_ms, market_list, parse_time_ms, pb, run


def time_arg(text: str) -> int:
    try:
        return parse_time_ms(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Fetch bulk candle history like a backtester (FetchCandleRange, PRIORITY_LOW).")
    p.add_argument("--gateway", default=DEFAULT_GATEWAY, help=f"gateway address HOST:PORT (default {DEFAULT_GATEWAY})")
    p.add_argument("--markets", type=market_list, default=market_list("KRW-BTC"),
                   help="comma-separated market codes (default KRW-BTC)")
    p.add_argument("--timeframe", choices=TIMEFRAMES, default="1m", help="candle timeframe (default 1m)")
    p.add_argument("--from", dest="start_ms", type=time_arg, required=True, metavar="TIME",
                   help="inclusive start: ISO 8601 (no zone = UTC) or epoch milliseconds")
    p.add_argument("--to", dest="end_ms", type=time_arg, required=True, metavar="TIME",
                   help="exclusive end: ISO 8601 (no zone = UTC) or epoch milliseconds")
    p.add_argument("--batch-size", type=int, default=0, metavar="N",
                   help="candles per batch, at most 100000 (default 0 = the server's, 10000)")
    args = p.parse_args()
    # Only what the wire cannot carry is checked here (batch_size is unsigned); the server checks
    # every field and answers INVALID_ARGUMENT naming it, and that answer is what the user sees.
    if args.batch_size < 0:
        p.error("--batch-size must be 0 or more")
    return args


class MarketTally:
    """What arrived for one market: counts, the time span, and its meta once the last batch came."""

    def __init__(self) -> None:
        self.candles = 0
        self.batches = 0
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self.ascending = True
        self.meta: pb.ResponseMeta | None = None

    def add(self, batch: pb.CandleBatch) -> None:
        times = batch.time_ms
        columns = (batch.open, batch.high, batch.low, batch.close, batch.volume, batch.quote_volume)
        if any(len(c) != len(times) for c in columns):
            raise ValueError(f"{batch.market}: a batch's columns differ in length")
        self.batches += 1
        if len(times):
            previous = self.last_ms
            self.ascending = self.ascending and (previous is None or previous < times[0]) and all(
                a < b for a, b in zip(times, times[1:])
            )
            self.first_ms = times[0] if self.first_ms is None else self.first_ms
            self.last_ms = times[-1]
            self.candles += len(times)
        if batch.HasField("meta"):
            self.meta = batch.meta

    def summary(self) -> dict[str, Any]:
        m = self.meta
        return {
            "candles": self.candles,
            "batches": self.batches,
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
            "ascending": self.ascending,
            "finished": m is not None,
            "source": pb.Source.Name(m.source) if m else None,
            "upstream_calls": m.upstream_calls if m else None,
            "complete": m.complete if m else None,
            "gaps": [
                {"start_ms": g.start_ms, "end_ms": g.end_ms, "reason": pb.GapReason.Name(g.reason)}
                for g in (m.gaps if m else [])
            ],
        }


def main() -> dict[str, Any]:
    args = parse_args()
    channel, stub = connect(args.gateway)
    tallies: dict[str, MarketTally] = {}
    progress = pb.Progress()
    started = time.monotonic()
    try:
        stream = stub.FetchCandleRange(
            pb.FetchCandleRangeRequest(
                markets=args.markets,
                timeframe=TIMEFRAMES[args.timeframe],
                start_ms=args.start_ms,
                end_ms=args.end_ms,
                priority=pb.PRIORITY_LOW,
                batch_size=args.batch_size,
            )
        )
        for response in stream:
            batch = response.batch
            tally = tallies.setdefault(batch.market, MarketTally())
            tally.add(batch)
            progress = batch.progress
            if tally.meta is not None:
                report_market(batch.market, tally, progress)
    finally:
        channel.close()
    seconds = time.monotonic() - started

    total = sum(t.candles for t in tallies.values())
    rate = total / seconds if seconds > 0 else 0.0
    print(f"{total} candles of {len(tallies)} markets in {seconds:.2f} s: {rate:,.0f} candles/s", flush=True)
    return {
        "timeframe": args.timeframe,
        "start_ms": args.start_ms,
        "end_ms": args.end_ms,
        "candles": total,
        "markets": {market: t.summary() for market, t in tallies.items()},
        "progress": {
            "buckets_done": progress.buckets_done,
            "buckets_total": progress.buckets_total,
            "markets_done": progress.markets_done,
            "markets_total": progress.markets_total,
        },
        "seconds": round(seconds, 3),
        "candles_per_second": round(rate, 1),
    }


def report_market(market: str, t: MarketTally, progress: pb.Progress) -> None:
    span = f"{iso_ms(t.first_ms)} .. {iso_ms(t.last_ms)}" if t.first_ms is not None and t.last_ms is not None else "no candles"
    m = t.meta
    assert m is not None  # called once the market's last batch (with its meta) arrived
    print(f"{market}: {t.candles} candles in {t.batches} batches ({span}), "
          f"{pb.Source.Name(m.source)}, {m.upstream_calls} upstream calls, complete={m.complete}, "
          f"{len(m.gaps)} gaps [{progress.markets_done}/{progress.markets_total} markets]", flush=True)
    for g in m.gaps:
        print(f"  gap {iso_ms(g.start_ms)} .. {iso_ms(g.end_ms)}: {pb.GapReason.Name(g.reason)} {g.detail}", flush=True)


if __name__ == "__main__":
    run("backtest", main)
