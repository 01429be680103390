"""What the three example programs share: finding the generated stubs, connecting to the gateway,
turning a gRPC error into a clean message and exit code, and the JSON summary line.

Run the programs with Debian's Python (/usr/bin/python3), which has python3-grpcio and
python3-protobuf; see install-deps.sh and README.md.
"""

from __future__ import annotations

import collections
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, NoReturn

DEFAULT_GATEWAY = "127.0.0.1:50051"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# generate-stubs.sh writes `backbone/marketdata/v1/*_pb2*.py` under a folder (gen/ beside this file
# unless told otherwise). protoc's imports are absolute (`backbone.marketdata.v1.market_data_pb2`)
# and the folders are namespace packages, so that folder has to be on sys.path: BACKBONE_PY_GEN
# names another one (the tests generate into a temporary directory).
GEN_DIR = Path(os.environ.get("BACKBONE_PY_GEN") or Path(__file__).resolve().parent / "gen")
sys.path.insert(0, str(GEN_DIR))

try:
    import grpc
except ImportError:
    sys.exit(
        f"error: {sys.executable} has no grpc module; run examples/python/install-deps.sh "
        "and use /usr/bin/python3"
    )
try:
    from backbone.marketdata.v1 import market_data_pb2 as pb
    from backbone.marketdata.v1 import market_data_pb2_grpc as pb_grpc
except ImportError:
    sys.exit(f"error: no generated stubs in {GEN_DIR}; run examples/python/generate-stubs.sh")

__all__ = ["pb", "pb_grpc", "grpc"]

# The CLI's short timeframe names, as in the rest of the project (src/shared/timeframe.ts).
TIMEFRAMES = {
    "1s": pb.TIMEFRAME_SECOND_1,
    "1m": pb.TIMEFRAME_MINUTE_1,
    "3m": pb.TIMEFRAME_MINUTE_3,
    "5m": pb.TIMEFRAME_MINUTE_5,
    "10m": pb.TIMEFRAME_MINUTE_10,
    "15m": pb.TIMEFRAME_MINUTE_15,
    "30m": pb.TIMEFRAME_MINUTE_30,
    "60m": pb.TIMEFRAME_MINUTE_60,
    "240m": pb.TIMEFRAME_MINUTE_240,
    "1d": pb.TIMEFRAME_DAY,
    "1w": pb.TIMEFRAME_WEEK,
    "1mo": pb.TIMEFRAME_MONTH,
    "1y": pb.TIMEFRAME_YEAR,
}


# As for mdb (README "Security"): the certificate or CA to trust makes the channel TLS, and the API
# key goes with every call as `authorization: Bearer KEY`.
GATEWAY_CA_VARIABLE = "BACKBONE_GATEWAY_CA"
API_KEY_VARIABLE = "BACKBONE_API_KEY"


class _CallDetails(
    collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds the API key to every call's metadata."""

    def __init__(self, key: str) -> None:
        self._header = ("authorization", f"Bearer {key}")

    def _with_key(self, d: grpc.ClientCallDetails) -> _CallDetails:
        return _CallDetails(d.method, d.timeout, [*(d.metadata or []), self._header], d.credentials,
                            getattr(d, "wait_for_ready", None), getattr(d, "compression", None))

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_key(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_key(client_call_details), request)


def connect(gateway: str) -> tuple[grpc.Channel, pb_grpc.MarketDataServiceStub]:
    """A channel to the gateway and the service stub: TLS when BACKBONE_GATEWAY_CA names the
    certificate (or CA) to trust, every call carrying BACKBONE_API_KEY when it is set; plaintext
    and keyless otherwise (the gateway's defaults). A bad setting exits naming the variable."""
    # Bulk batches of 10,000 candles are about 0.5 MB, far below this; the default (4 MiB) would
    # fail a FetchCandleRange asked for batch_size 100,000.
    options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    ca_path = os.environ.get(GATEWAY_CA_VARIABLE, "").strip()
    if ca_path:
        try:
            ca = Path(ca_path).read_bytes()
        except OSError as e:
            sys.exit(f"error: {GATEWAY_CA_VARIABLE}: cannot read {ca_path!r}: {e.strerror}")
        channel = grpc.secure_channel(gateway, grpc.ssl_channel_credentials(root_certificates=ca), options=options)
    else:
        channel = grpc.insecure_channel(gateway, options=options)
    key = os.environ.get(API_KEY_VARIABLE, "").strip()
    if key:
        if any(c.isspace() for c in key):
            sys.exit(f"error: {API_KEY_VARIABLE}: an API key has no spaces")
        channel = grpc.intercept_channel(channel, _Bearer(key))
    return channel, pb_grpc.MarketDataServiceStub(channel)


def print_summary(summary: dict[str, Any]) -> None:
    """The last stdout line of every program: one JSON object, for scripts and tests."""
    print(json.dumps(summary, separators=(",", ":")), flush=True)


def run(program: str, main: Callable[[], dict[str, Any]]) -> NoReturn:
    """Runs `main`, prints its summary and exits 0. A gRPC error exits 1 with the server's status
    code and message on stderr and in the summary; Ctrl-C that `main` does not handle itself
    exits 130."""
    try:
        summary = main()
    except grpc.RpcError as e:
        code = e.code().name if e.code() is not None else "UNKNOWN"
        details = e.details() or ""
        print(f"{program}: gRPC error {code}: {details}", file=sys.stderr)
        print_summary({"program": program, "error": {"code": code, "message": details}})
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        stdout_closed()
    try:
        print_summary({"program": program, **summary})
    except BrokenPipeError:
        stdout_closed()
    sys.exit(0)


def stdout_closed() -> NoReturn:
    """The reader of stdout went away (`| head`): stop quietly. Python would otherwise print a
    traceback, and another when it flushes stdout at exit, so stdout now points at /dev/null."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)


def iso_ms(ms: int) -> str:
    """UTC ISO 8601 of an epoch-millisecond time, e.g. 2024-05-01T12:00:00.000Z."""
    t = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time_ms(text: str) -> int:
    """Epoch milliseconds from either digits (already epoch ms) or ISO 8601 (no zone = UTC).
    Raises ValueError with a message fit for argparse."""
    if text.isdigit():
        return int(text)
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"{text!r} is neither epoch milliseconds nor ISO 8601") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    # Integer arithmetic: timestamp() is a float and would round some milliseconds away.
    return (t - EPOCH) // timedelta(milliseconds=1)


def market_list(text: str) -> list[str]:
    """`KRW-BTC,KRW-ETH` → ["KRW-BTC", "KRW-ETH"]; codes are passed on as typed, the server
    checks them (and answers INVALID_ARGUMENT naming the field)."""
    return [m.strip() for m in text.split(",") if m.strip()]
