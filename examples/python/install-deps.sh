#!/usr/bin/env bash
# Installs, from Debian's packages, what the Python examples need: Debian's own Python
# (/usr/bin/python3; a `python3` earlier on PATH, e.g. pyenv's, has no gRPC), the gRPC and
# protobuf runtimes, protoc, and gRPC's Python code generator (grpc_python_plugin, shipped in
# protobuf-compiler-grpc at the same version as python3-grpcio; python3-grpc-tools is far older).
# PyPI is not used, so this works where only Debian's mirrors are reachable.
#
# Idempotent: does nothing when every package is installed; runs `apt-get update` only when a
# package is missing. Needs root (CI runs as root); otherwise it retries through sudo.
set -euo pipefail

packages=(python3 python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc)

missing=()
for p in "${packages[@]}"; do
  # `dpkg-query` says "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all present (${packages[*]})"
  exit 0
fi

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: missing ${missing[*]}; run this script as root" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
