#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium), which `npm run test:browser` drives headless to
# load the gateway's status page and save a screenshot. From Debian's mirrors only: nothing is
# downloaded through npm, so this works where only the distribution's mirrors are reachable.
#
# Idempotent, root or sudo: see scripts/apt-install.sh.
set -euo pipefail

packages=(chromium)
exec bash "$(dirname "$0")/apt-install.sh" install-chromium "${packages[@]}"
