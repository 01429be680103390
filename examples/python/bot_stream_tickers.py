#!/usr/bin/env python3
"""A trading bot's view of the backbone: StreamTickers at PRIORITY_CRITICAL. The first message per
market is the latest known ticker (snapshot), then live updates follow.

  /usr/bin/python3 examples/python/bot_stream_tickers.py --markets KRW-BTC,KRW-ETH --updates 5

Prints one line per message, then (as its last line) a JSON summary. Runs until Ctrl-C (exit 0)
unless --updates says when to stop.
"""

from __future__ import annotations

import argparse
from typing import Any

from backbone_client import DEFAULT_GATEWAY, connect, market_list, pb, run


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Stream tickers like a trading bot (StreamTickers, PRIORITY_CRITICAL).")
    p.add_argument("--gateway", default=DEFAULT_GATEWAY, help=f"gateway address HOST:PORT (default {DEFAULT_GATEWAY})")
    p.add_argument("--markets", type=market_list, default=market_list("KRW-BTC,KRW-ETH"),
                   help="comma-separated market codes (default KRW-BTC,KRW-ETH)")
    p.add_argument("--updates", type=int, default=0, metavar="N",
                   help="stop once every market has had N live updates (snapshots not counted); "
                        "default: run until Ctrl-C")
    args = p.parse_args()
    if args.updates < 0:
        p.error("--updates must be 0 or more")
    if not args.markets:
        p.error("--markets needs at least one market code")
    return args


def main() -> dict[str, Any]:
    args = parse_args()
    channel, stub = connect(args.gateway)
    # Per market: did the stream open with a snapshot, how many live updates, the last price.
    seen: dict[str, dict[str, Any]] = {}
    stream = stub.StreamTickers(pb.StreamTickersRequest(markets=args.markets, priority=pb.PRIORITY_CRITICAL))
    stopped_by = "server"  # the server ended the stream, unless one of the below
    try:
        for message in stream:
            t = message.ticker
            print(f"{t.market:<10} {t.trade_price:>16,.10g} {'snapshot' if message.snapshot else 'live'}", flush=True)
            market = seen.setdefault(t.market, {"snapshot_first": message.snapshot, "snapshots": 0, "live": 0})
            market["snapshots" if message.snapshot else "live"] += 1
            market["last_price"] = t.trade_price
            if args.updates and all(seen.get(m, {}).get("live", 0) >= args.updates for m in args.markets):
                stopped_by = "updates"
                break
    except KeyboardInterrupt:
        stopped_by = "ctrl-c"
    finally:
        stream.cancel()
        channel.close()
    return {"markets": args.markets, "stopped_by": stopped_by, "per_market": seen}


if __name__ == "__main__":
    run("bot", main)
