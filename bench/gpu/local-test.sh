#!/usr/bin/env bash
# A dress rehearsal of the device run on this machine, without a GPU: copies what the `run` tool
# would (tracked and untracked-not-ignored files + bench/gpu/payload) into a temporary folder and
# runs remote.sh there with an empty environment whose `node` on PATH fails loudly, so the
# carried Node, Dawn, Vulkan loader and bundles must do everything. The adapter is Mesa lavapipe
# (BT_GPU_ALLOW_ADAPTER=llvmpipe); its timings mean nothing, and a shared CPU is slow, so each
# step may take up to 300 s here (BT_GPU_CAP_S).
#
#   bash bench/gpu/local-test.sh [remote.sh args, default: --quick]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ -f "$root/bench/gpu/payload/MANIFEST.txt" ] || { echo "run bash bench/gpu/prepare.sh first" >&2; exit 1; }
tmp="$(mktemp -d /tmp/bt-gpu-local.XXXXXX)"
mkdir -p "$tmp/repo" "$tmp/nonode" "$tmp/out"
(cd "$root" && git ls-files -z -co --exclude-standard | xargs -0 tar -cf - bench/gpu/payload) | tar -xf - -C "$tmp/repo"
printf '#!/bin/sh\necho "local-test: the system node was called ($0 $*)" >&2\nexit 97\n' >"$tmp/nonode/node"
chmod +x "$tmp/nonode/node"
echo "local-test: repo copy in $tmp/repo ($(du -sh "$tmp/repo" | cut -f1)), \$OUT=$tmp/out"
cd "$tmp/repo"
[ $# -gt 0 ] || set -- --quick
rc=0
env -i PATH="$tmp/nonode:/usr/bin:/bin" HOME="$tmp" OUT="$tmp/out" \
  BT_GPU_ALLOW_ADAPTER=llvmpipe BT_GPU_ICD=/usr/share/vulkan/icd.d/lvp_icd.json BT_GPU_BUDGET_S="${BT_GPU_BUDGET_S:-900}" BT_GPU_CAP_S="${BT_GPU_CAP_S:-300}" \
  bash bench/gpu/remote.sh "$@" || rc=$?
echo "local-test: remote.sh exited $rc; files in $tmp/out: $(ls "$tmp/out" | tr '\n' ' ')"
exit $rc
