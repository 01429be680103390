#!/usr/bin/env bash
# Generates the Python message and gRPC stubs of the public API
# (proto/backbone/marketdata/v1/market_data.proto) with protoc and gRPC's Python plugin, both from
# Debian's packages (see install-deps.sh).
#
#   examples/python/generate-stubs.sh [OUT_DIR]     # default: examples/python/gen (gitignored)
#
# protoc writes package paths that mirror the proto's: OUT_DIR/backbone/marketdata/v1/
# market_data_pb2.py and market_data_pb2_grpc.py, the latter importing
# `backbone.marketdata.v1.market_data_pb2`. These are namespace packages (no __init__.py needed),
# so putting OUT_DIR on sys.path is enough: the example programs do that (BACKBONE_PY_GEN or
# their own gen/ folder). Generated code is never committed; rerun this after the proto changes.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$here/gen}"
proto="backbone/marketdata/v1/market_data.proto"

for tool in protoc grpc_python_plugin; do
  if ! command -v "$tool" >/dev/null; then
    echo "generate-stubs: $tool not found; run examples/python/install-deps.sh first" >&2
    exit 1
  fi
done

mkdir -p "$out"
# Only our own subtree goes: OUT_DIR may be a folder the caller uses for other things too.
rm -rf "$out/backbone"
protoc \
  --proto_path="$repo/proto" \
  --python_out="$out" \
  --pyi_out="$out" \
  --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  "$repo/proto/$proto"
echo "generate-stubs: wrote the stubs of $proto to $out/${proto%/*}/"
