#!/usr/bin/env bash
# Runs the WebGPU benches on a machine with an NVIDIA GPU and its driver but no Node.js, no Vulkan
# loader and no internet, from the payload bench/gpu/prepare.sh built (carried in
# bench/gpu/payload). See bench/gpu/README.md.
#
#   bash bench/gpu/remote.sh [--quick] [probe|hostcost|engine|tiles|sums|sgmcmc|vi|crossover|tests ...]
#
# Default: the eight bench steps. `tests` (the WebGPU suite: every test file with WebGPU bodies,
# bundled, several at a time) is its own run: bash bench/gpu/remote.sh tests.
#
# Results go to $OUT (default /tmp/bt-gpu-out): remote.log, adapter.json, <step>.log and each
# bench's .json/.md. The whole run keeps within BT_GPU_BUDGET_S seconds (default 285); each step
# has its own `timeout` as well. Environment (all optional):
#   BT_GPU_ALLOW_ADAPTER  regex the adapter's label must match (default "nvidia"); setting it also
#                         accepts a software adapter, e.g. "llvmpipe" for a test without a GPU
#   BT_GPU_ICD            the Vulkan ICD json to use instead of searching for NVIDIA's
#   BT_GPU_BUDGET_S       the time budget of the whole run, seconds (default 285)
#   BT_GPU_CAP_S          every step's own limit, seconds (default: probe 60, hostcost 30, engine 100, tiles 50, sums 25, sgmcmc 25, vi 60, crossover 60, tests 270)
#   BT_TEST_JOBS          test files at a time in the tests step (default: half the CPUs, 2 to 8)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
P="$here/payload"
OUT="${OUT:-/tmp/bt-gpu-out}"
BUDGET="${BT_GPU_BUDGET_S:-285}"
DEADLINE=$((SECONDS + BUDGET))
QUICK=0
STEPS=()
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    probe | hostcost | engine | tiles | sums | sgmcmc | vi | crossover | tests) STEPS+=("$a") ;;
    *) echo "usage: bash bench/gpu/remote.sh [--quick] [probe|hostcost|engine|tiles|sums|sgmcmc|vi|crossover|tests ...]" >&2; exit 2 ;;
  esac
done
[ ${#STEPS[@]} -gt 0 ] || STEPS=(probe hostcost engine tiles sums sgmcmc vi crossover)
[[ " ${STEPS[*]} " == *" probe "* ]] || STEPS=(probe "${STEPS[@]}") # never bench an unchecked adapter

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
exec > >(tee "$OUT/remote.log") 2>&1
cd "$root"

die() { echo "REMOTE FAILED: $*"; exit 1; }
section() { echo; echo "== $* [t=$((SECONDS))s]"; }

section "bayestape bench/gpu on $(uname -srm), $(date -u +%Y-%m-%dT%H:%M:%SZ), budget ${BUDGET}s$([ $QUICK = 1 ] && echo ', QUICK')"
[ -f "$P/MANIFEST.txt" ] || die "no payload at $P: run 'bash bench/gpu/prepare.sh' here first and carry bench/gpu/payload"
cp "$P/MANIFEST.txt" "$OUT/"
sed -n '2,5p' "$P/MANIFEST.txt"
os="$( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || echo unknown)"
glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
echo "system: $os, glibc ${glibc:-unknown}, $(nproc 2>/dev/null || echo '?') CPUs"
# the carried Debian bookworm libraries (loader, X11, GLdispatch) need glibc >= 2.34
if [ -n "$glibc" ] && [ "$(printf '%s\n2.34\n' "$glibc" | sort -V | head -1)" != 2.34 ]; then
  echo "WARNING: glibc $glibc < 2.34: the carried libvulkan/libX11 may not load"
fi
if command -v git >/dev/null && head=$(git rev-parse --short HEAD 2>/dev/null); then
  echo "working tree: $head"
  grep -q "from commit $head\(+dirty\)\?$" "$P/MANIFEST.txt" || echo "WARNING: the payload was built from another commit than this working tree (rerun prepare.sh)"
fi

section "GPU (nvidia-smi)"
SMI="$(command -v nvidia-smi || ls /usr/local/nvidia/bin/nvidia-smi /usr/bin/nvidia-smi 2>/dev/null | head -1)"
if [ -n "$SMI" ]; then
  timeout 20 "$SMI" --query-gpu=name,driver_version,memory.total,memory.used,utilization.gpu,clocks.max.sm --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
else
  echo "nvidia-smi: not found"
fi

section "unpack node and dawn.node"
# unxz SRC DST: lzma-decompress and check against SRC's .sha256 sidecar (python3: there is no xz here)
unxz() {
  local src="$1" dst="$2" sum
  sum="$(cat "${src%.xz}.sha256")"
  if command -v python3 >/dev/null; then
    python3 - "$src" "$dst" "$sum" <<'PY' || return 1
import hashlib, lzma, os, sys
src, dst, want = sys.argv[1:4]
h, tmp = hashlib.sha256(), dst + '.part'
with lzma.open(src) as f, open(tmp, 'wb') as g:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        h.update(b)
        g.write(b)
if h.hexdigest() != want.strip():
    sys.exit(f'{src}: sha256 mismatch after unpacking')
os.chmod(tmp, 0o755)
os.replace(tmp, dst)
PY
  elif command -v xz >/dev/null; then
    xz -dc "$src" >"$dst.part" && chmod 755 "$dst.part" && mv "$dst.part" "$dst"
  else
    return 1
  fi
  echo "   $dst ($(du -h "$dst" | cut -f1))"
}
mkdir -p "$P/bin"
NODE="$P/bin/node"
DAWN="$P/node_modules/webgpu/dist/linux-x64/dawn.node"
# unpacked files go when the run ends: the payload stays the size prepare.sh checked (≤ 60 MiB)
trap 'rm -rf "$P/bin" "$DAWN" "$DAWN.part"' EXIT
unxz "$P/node.xz" "$NODE" || die "could not unpack node (needs python3 or xz)"
unxz "$DAWN.xz" "$DAWN" || die "could not unpack dawn.node"
if ! "$NODE" --version >/dev/null 2>&1; then
  echo "node does not start with the system's libraries; adding the carried libstdc++/libgcc_s"
  export LD_LIBRARY_PATH="$P/lib-fallback${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  "$NODE" --version >/dev/null 2>&1 || { ldd "$NODE" 2>&1 | grep -i 'not found'; die "node does not start"; }
fi
unset NODE_OPTIONS
echo "   node $("$NODE" --version) (no system node is used: $NODE)"

section "NVIDIA Vulkan driver (ICD)"
DRIVER_DIRS=(/usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/nvidia /usr/lib/x86_64-linux-gnu/nvidia/current /usr/local/lib /lib/x86_64-linux-gnu)
ICD_DIRS=(/usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/nvidia/icd.d /usr/local/nvidia/vulkan/icd.d /usr/share/nvidia /etc/nvidia)
# bounded search of the whole file system, for drivers installed where no list above looks
find_anywhere() { timeout 25 find / -maxdepth 8 \( -path /proc -o -path /sys -o -path /dev -o -path "$root" \) -prune -o -name "$1" -print 2>/dev/null | head -1; }
find_glx() {
  local d f
  f="$( (ldconfig -p 2>/dev/null || true) | awk '/libGLX_nvidia\.so\.0 / {print $NF; exit}')"
  [ -n "$f" ] && [ -e "$f" ] && { echo "$f"; return; }
  for d in "${DRIVER_DIRS[@]}"; do [ -e "$d/libGLX_nvidia.so.0" ] && { echo "$d/libGLX_nvidia.so.0"; return; }; done
  find_anywhere 'libGLX_nvidia.so.0'
}
find_icd() {
  local d f
  for d in "${ICD_DIRS[@]}"; do for f in "$d"/nvidia_icd*.json; do [ -f "$f" ] && { echo "$f"; return; }; done; done
  find_anywhere 'nvidia_icd*.json'
}
GLX="$(find_glx)"
ICD="${BT_GPU_ICD:-}"
if [ -n "$ICD" ]; then
  echo "ICD from BT_GPU_ICD: $ICD"
  [ -f "$ICD" ] || die "BT_GPU_ICD=$ICD does not exist"
else
  ICD="$(find_icd)"
  if [ -n "$ICD" ]; then
    echo "ICD found: $ICD"
  elif [ -n "$GLX" ]; then
    # the driver's library is here but not its json (a container given only the libraries)
    mkdir -p "$P/icd"
    ICD="$P/icd/nvidia_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$GLX" >"$ICD"
    echo "no nvidia_icd.json anywhere; wrote $ICD for $GLX"
  elif [ -n "${BT_GPU_ALLOW_ADAPTER:-}" ]; then
    echo "no NVIDIA driver found; BT_GPU_ALLOW_ADAPTER is set, so the loader's default ICDs are used"
  else
    echo "searched: ${ICD_DIRS[*]} ${DRIVER_DIRS[*]} and / (depth 8)"
    echo "NVIDIA libraries present: $(ls "${DRIVER_DIRS[@]}" 2>/dev/null | grep -E 'nvidia|libcuda' | sort -u | head -40 | tr '\n' ' ')"
    echo "NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-(unset)} (a container needs 'graphics' for the Vulkan driver)"
    die "no NVIDIA Vulkan driver: neither nvidia_icd.json nor libGLX_nvidia.so.0 was found"
  fi
fi
echo "libGLX_nvidia.so.0: ${GLX:-not found}"
[ -n "$ICD" ] && { echo "--- $ICD"; cat "$ICD"; echo; export VK_DRIVER_FILES="$ICD" VK_ICD_FILENAMES="$ICD"; }
# carried loader + X libs first, then the driver's own directories
LIBS="$P/lib"
[ -n "$GLX" ] && LIBS="$LIBS:$(dirname "$GLX")"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && LIBS="$LIBS:$d"; done
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export BT_GPU_LIB_DIR="$P/lib"
export BAYESTAPE_WEBGPU_FLAGS="${BAYESTAPE_WEBGPU_FLAGS:-backend=vulkan}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-(unset)}  BAYESTAPE_WEBGPU_FLAGS=$BAYESTAPE_WEBGPU_FLAGS"
if command -v ldd >/dev/null; then
  for lib in "$P/lib/libvulkan.so.1" ${GLX:+"$GLX"}; do
    miss="$(ldd "$lib" 2>&1 | grep 'not found')"
    echo "ldd $(basename "$lib"): ${miss:-all dependencies resolve}"
  done
fi

# ---- steps ----
if [ $QUICK = 1 ]; then
  SECS=(--seconds 0.1)
  ENGINE_ARGS=(--quick --sizes 64,128,256 --max-first-s 2)
  VI_SAMPLES=10,64
  CHAINS=1,16
else
  SECS=(--seconds 1)
  # the CPU column stops where a first run would take > 4 s (n = 4096 on the CPU would eat the budget)
  ENGINE_ARGS=(--max-first-s 4)
  VI_SAMPLES=10,64,256,1024
  CHAINS=1,16,64,256,1024
fi
declare -A CAP=([probe]=60 [hostcost]=30 [engine]=100 [tiles]=50 [sums]=25 [sgmcmc]=25 [vi]=60 [crossover]=60 [tests]=270)
if [ -n "${BT_GPU_CAP_S:-}" ]; then for s in "${!CAP[@]}"; do CAP[$s]=$BT_GPU_CAP_S; done; fi
# sgmcmc: one chain, where the host cost decides (issue 16: ≤ 0.5 ms a step); vi and crossover:
# the same sweep on the CPU and the GPU in one process, to show where the GPU starts to pay
declare -A CMD=(
  [probe]="bench/probe.mjs"
  [hostcost]="bench/host-cost.mjs --steps $([ $QUICK = 1 ] && echo 200 || echo 1000) --rounds 5 --out $OUT"
  [engine]="bench/webgpu.mjs --out $OUT ${ENGINE_ARGS[*]}"
  [tiles]="bench/matmul-tiles.mjs --out $OUT $([ $QUICK = 1 ] && echo --quick || echo --seconds 0.3)"
  [sums]="bench/long-sums.mjs --out $OUT $([ $QUICK = 1 ] && echo --quick || echo --seconds 0.3)"
  [sgmcmc]="bench/sgmcmc.mjs --backend webgpu --models logreg --batch 32 --chains 1 --out $OUT ${SECS[*]}"
  [vi]="bench/vi.mjs --compare cpu,webgpu --models bh --diff reverse --modes jit --samples $VI_SAMPLES --out $OUT ${SECS[*]}"
  [crossover]="bench/sgmcmc.mjs --compare cpu,webgpu --models bnn --batch 512 --modes jit --chains $CHAINS --out $OUT ${SECS[*]}"
  [tests]="test/run.mjs"
)
# the tests step: CI=true (no adapter is a failure, not a skip), files at a time, counts as JSON
# (written after each file, so a run the cap stops still leaves what finished)
JOBS="${BT_TEST_JOBS:-$(n=$(( $(nproc 2>/dev/null || echo 4) / 2 )); [ $n -lt 2 ] && n=2; [ $n -gt 8 ] && n=8; echo $n)}"
[[ " ${STEPS[*]} " == *" tests "* ]] && rm -f "$OUT/tests.log" "$OUT/tests.json" # no stale results from an earlier run
RESERVE=20 # seconds kept for each later step
declare -A RC TOOK
for i in "${!STEPS[@]}"; do
  s="${STEPS[$i]}"
  later=$(( ${#STEPS[@]} - i - 1 ))
  left=$((DEADLINE - SECONDS))
  t=$((left - RESERVE * later))
  [ "$s" = probe ] && t=$left # the precondition of everything after it
  [ "$t" -gt "${CAP[$s]}" ] && t="${CAP[$s]}"
  if [ "$t" -lt 15 ]; then
    section "$s: SKIPPED (${left}s of the budget left)"
    RC[$s]=skipped
    continue
  fi
  section "$s (limit ${t}s): node ${CMD[$s]}"
  t0=$SECONDS
  # shellcheck disable=SC2086  # CMD holds the argument list
  (
    cd "$P" && export OUT
    [ "$s" = tests ] && export CI=true BT_TEST_JOBS="$JOBS" BT_TEST_JSON="$OUT/tests.json"
    timeout -k 5 "$t" "$NODE" ${CMD[$s]}
  ) 2>&1 | tee "$OUT/$s.log"
  rc=${PIPESTATUS[0]}
  TOOK[$s]=$((SECONDS - t0))
  case $rc in 0) RC[$s]=ok ;; 124 | 137) RC[$s]="TIMED OUT after ${t}s" ;; *) RC[$s]="FAILED rc=$rc" ;; esac
  if [ "$s" = probe ] && [ $rc != 0 ]; then
    section "probe failed: once more with the Vulkan loader's messages (VK_LOADER_DEBUG=error,warn,driver)"
    (cd "$P" && VK_LOADER_DEBUG=error,warn,driver timeout -k 5 40 "$NODE" bench/probe.mjs) 2>&1 | tail -60
    die "the adapter probe failed (see above): not running the benches on a wrong or missing adapter"
  fi
done

section "summary"
grep -E '^adapter:|^Vulkan loader:' "$OUT/probe.log" 2>/dev/null
for s in "${STEPS[@]}"; do printf '  %-7s %s%s\n' "$s" "${RC[$s]}" "${TOOK[$s]:+ (${TOOK[$s]}s)}"; done
[[ " ${STEPS[*]} " == *" tests "* ]] && [ -f "$OUT/tests.log" ] && { echo; echo "---- tests: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/tests.log" | tail -1)"; grep -E '^FAIL ' "$OUT/tests.log"; }
for f in "$OUT"/host-cost.md "$OUT"/engine-webgpu*.md "$OUT"/matmul-tiles.md "$OUT"/long-sums.md "$OUT"/sgmcmc-webgpu.md "$OUT"/crossover-vi.md "$OUT"/crossover-sgmcmc.md; do
  [ -f "$f" ] && { echo; echo "---- $(basename "$f")"; cat "$f"; }
done
echo
echo "files in \$OUT ($OUT): $(cd "$OUT" && ls | tr '\n' ' ')"
echo "total ${SECONDS}s"
for s in "${STEPS[@]}"; do [ "${RC[$s]}" = ok ] || exit 1; done
exit 0
