#!/usr/bin/env bash
# Usage: apt-install.sh NAME PACKAGE...
# Installs the Debian packages not yet installed, from Debian's mirrors only. Idempotent: does
# nothing when every package is installed; runs `apt-get update` only when one is missing. Needs
# root (CI runs as root); otherwise it retries through sudo. NAME prefixes its messages.
set -euo pipefail

name=$1
shift
packages=("$@")

missing=()
for p in "${packages[@]}"; do
  # `dpkg-query` says "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$name: all present (${packages[*]})"
  exit 0
fi

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "$name: missing ${missing[*]}; run this script as root" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "$name: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
