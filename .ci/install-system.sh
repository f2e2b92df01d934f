#!/usr/bin/env bash
# System packages the project needs on a Debian bookworm machine (run as root, no stdin).
# Today: Mesa's software Vulkan driver (lavapipe) from bookworm-backports, for the WebGPU
# backend (next issue) to run headless without a GPU. Idempotent: a no-op when it is installed.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

have_lavapipe() {
  dpkg-query -W -f='${Status}' mesa-vulkan-drivers 2>/dev/null | grep -q 'install ok installed' &&
    ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1
}

if have_lavapipe; then
  echo "install-system: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed; skipping."
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-system: not root and no sudo; cannot install mesa-vulkan-drivers." >&2
    exit 1
  fi
fi

. /etc/os-release
if [ "${VERSION_CODENAME:-}" != "bookworm" ]; then
  echo "install-system: expected Debian bookworm, found '${PRETTY_NAME:-unknown}'; installing mesa-vulkan-drivers from the default suite." >&2
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends mesa-vulkan-drivers
  exit 0
fi

LIST=/etc/apt/sources.list.d/backports.list
LINE='deb http://deb.debian.org/debian bookworm-backports main'
if ! grep -qsF "$LINE" "$LIST"; then
  echo "$LINE" | $SUDO tee "$LIST" >/dev/null
fi

apt_update() {
  local i
  for i in 1 2 3; do
    if $SUDO apt-get update -q -o Acquire::Retries=3; then return 0; fi
    echo "install-system: apt-get update failed (try $i); retrying..." >&2
    sleep $((i * 5))
  done
  return 1
}

apt_update
$SUDO apt-get install -y -q --no-install-recommends -o Acquire::Retries=3 \
  -t bookworm-backports mesa-vulkan-drivers

if have_lavapipe; then
  echo "install-system: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)."
else
  echo "install-system: mesa-vulkan-drivers installed but no lavapipe ICD found under /usr/share/vulkan/icd.d" >&2
  ls /usr/share/vulkan/icd.d >&2 || true
  exit 1
fi
