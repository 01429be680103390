#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium), which `npm run test:browser` drives headless to
# load the gateway's status page and save a screenshot. From Debian's mirrors only: nothing is
# downloaded through npm, so this works where only the distribution's mirrors are reachable.
#
# Idempotent: does nothing when the package is installed; runs `apt-get update` only when it is
# missing. Needs root (CI runs as root); otherwise it retries through sudo.
set -euo pipefail

packages=(chromium)

missing=()
for p in "${packages[@]}"; do
  # `dpkg-query` says "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-chromium: all present (${packages[*]})"
  exit 0
fi

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "install-chromium: missing ${missing[*]}; run this script as root" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "install-chromium: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
