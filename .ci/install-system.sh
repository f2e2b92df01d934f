#!/usr/bin/env bash
# System packages the project needs on a Debian bookworm machine (run as root, no stdin):
#   - mesa-vulkan-drivers from bookworm-backports: Mesa's software Vulkan driver (lavapipe), so
#     the WebGPU backend runs headless without a GPU (bookworm's own Mesa 22 is too old for Dawn);
#   - chromium from bookworm's main suite (its security updates included): the headless browser
#     of test/browser/, which runs the library in a page (WebGPU there is Chromium's SwiftShader).
# Idempotent: installs only what is missing, a no-op when both are installed.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

have_lavapipe() {
  dpkg-query -W -f='${Status}' mesa-vulkan-drivers 2>/dev/null | grep -q 'install ok installed' &&
    ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1
}

have_chromium() {
  dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed' &&
    [ -x /usr/lib/chromium/chromium ]
}

version_of() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }

need_lavapipe=1
need_chromium=1
if have_lavapipe; then
  echo "install-system: mesa-vulkan-drivers $(version_of mesa-vulkan-drivers) already installed; skipping."
  need_lavapipe=0
fi
if have_chromium; then
  echo "install-system: chromium $(version_of chromium) already installed; skipping."
  need_chromium=0
fi
if [ "$need_lavapipe" = 0 ] && [ "$need_chromium" = 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-system: not root and no sudo; cannot install mesa-vulkan-drivers/chromium." >&2
    exit 1
  fi
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

apt_install() { # apt_install [apt-get options...] PACKAGE...
  local i
  for i in 1 2 3; do
    if $SUDO apt-get install -y -q --no-install-recommends -o Acquire::Retries=3 "$@"; then return 0; fi
    echo "install-system: apt-get install $* failed (try $i); retrying..." >&2
    sleep $((i * 5))
  done
  return 1
}

. /etc/os-release
if [ "${VERSION_CODENAME:-}" != "bookworm" ]; then
  echo "install-system: expected Debian bookworm, found '${PRETTY_NAME:-unknown}'; installing from the default suite." >&2
  apt_update
  if [ "$need_lavapipe" = 1 ]; then apt_install mesa-vulkan-drivers; fi
  # Ubuntu has no apt chromium (only a snap); there, set CHROMIUM_PATH for the browser test
  if [ "$need_chromium" = 1 ]; then apt_install chromium; fi
  exit 0
fi

if [ "$need_lavapipe" = 1 ]; then
  LIST=/etc/apt/sources.list.d/backports.list
  LINE='deb http://deb.debian.org/debian bookworm-backports main'
  if ! grep -qsF "$LINE" "$LIST"; then
    echo "$LINE" | $SUDO tee "$LIST" >/dev/null
  fi
fi

apt_update

# lavapipe first: chromium then reuses the backports Mesa libraries (libgbm1, ...) it brings
if [ "$need_lavapipe" = 1 ]; then
  apt_install -t bookworm-backports mesa-vulkan-drivers
  if have_lavapipe; then
    echo "install-system: installed mesa-vulkan-drivers $(version_of mesa-vulkan-drivers)."
  else
    echo "install-system: mesa-vulkan-drivers installed but no lavapipe ICD found under /usr/share/vulkan/icd.d" >&2
    ls /usr/share/vulkan/icd.d >&2 || true
    exit 1
  fi
fi

if [ "$need_chromium" = 1 ]; then
  # the default release: bookworm main, or bookworm-security's newer build where that source is configured
  apt_install chromium
  if have_chromium; then
    echo "install-system: installed chromium $(version_of chromium)."
  else
    echo "install-system: the chromium package installed but /usr/lib/chromium/chromium is missing" >&2
    exit 1
  fi
fi
