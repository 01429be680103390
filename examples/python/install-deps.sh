#!/usr/bin/env bash
# Installs, from Debian's packages, what the Python examples need: Debian's own Python
# (/usr/bin/python3; a `python3` earlier on PATH, e.g. pyenv's, has no gRPC), the gRPC and
# protobuf runtimes, protoc, and gRPC's Python code generator (grpc_python_plugin, shipped in
# protobuf-compiler-grpc at the same version as python3-grpcio; python3-grpc-tools is far older).
# PyPI is not used, so this works where only Debian's mirrors are reachable.
#
# Idempotent, root or sudo: see scripts/apt-install.sh.
set -euo pipefail

packages=(python3 python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc)
exec bash "$(dirname "$0")/../../scripts/apt-install.sh" install-deps "${packages[@]}"
