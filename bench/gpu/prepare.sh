#!/usr/bin/env bash
# Builds bench/gpu/payload/ (git-ignored): everything bench/gpu/remote.sh needs on a Linux x86_64
# machine that has an NVIDIA driver and python3 but no Node.js, no Vulkan loader and no internet.
#
#   bash bench/gpu/prepare.sh        # then carry bench/gpu/payload (see bench/gpu/README.md)
#
# payload/
#   node.xz, node.sha256              this machine's Node binary (python3's lzma unpacks it there)
#   node_modules/webgpu/              the npm package: index.js, package.json, dawn.node.xz (linux-x64)
#   lib/                              libvulkan.so.1 and what NVIDIA's libGLX_nvidia.so.0 links to
#                                     (X11, xcb, GLdispatch, ...), from Debian bookworm .debs
#   lib-fallback/                     libstdc++ / libgcc_s, used only where the system has none
#   bench/*.mjs                       esbuild bundles of the benches + the adapter probe
#   bench/breast-cancer.csv           the SG-MCMC bench's data (read beside the bundle)
#   bench/node_modules/@tensorflow/*  package.json only: the peers are in webgpu.mjs; these name
#                                     their versions and tell bench/webgpu.ts they are "installed"
#   package.json, MANIFEST.txt        the project's version; what was built from which commit
# Fails when the payload exceeds 60 MiB (the carry limit is 64 MiB).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
P="$here/payload"
LIMIT=$((60 * 1024 * 1024))
cd "$root"

need() { command -v "$1" >/dev/null || { echo "prepare.sh: '$1' is needed here ($2)" >&2; exit 1; }; }
need node "its binary is carried"
need xz "compresses node and dawn.node"
need dpkg "dpkg -x unpacks the Vulkan loader's .debs"
need apt-get "apt-get download fetches the .debs"
need sha256sum "checksums"

[ "$(uname -sm)" = "Linux x86_64" ] || { echo "prepare.sh: the device is Linux x86_64; run this on one too" >&2; exit 1; }
NODE_BIN="$(readlink -f "$(command -v node)")"
NODE_VER="$(node --version)"
case "$NODE_VER" in v2[0-9].*) ;; *) echo "prepare.sh: Node $NODE_VER is too old (need v20+)" >&2; exit 1 ;; esac

# ---- the bench peers (tfjs-webgpu) must be installed to be bundled ----
if [ ! -f bench/node_modules/@tensorflow/tfjs-backend-webgpu/package.json ] || [ ! -f bench/node_modules/@tensorflow/tfjs/package.json ]; then
  echo "== bench peers missing: npm ci --prefix bench"
  npm ci --prefix bench --no-audit --no-fund
fi
DAWN="node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$DAWN" ] || { echo "prepare.sh: $DAWN is missing (npm ci at the repo root)" >&2; exit 1; }

# ---- start clean, but keep the slow xz outputs when their source has not changed ----
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
for f in node.xz node.sha256 node_modules/webgpu/dist/linux-x64/dawn.node.xz node_modules/webgpu/dist/linux-x64/dawn.node.sha256; do
  [ -f "$P/$f" ] && { mkdir -p "$cache/$(dirname "$f")"; cp "$P/$f" "$cache/$f"; }
done
rm -rf "$P"
mkdir -p "$P/bench" "$P/lib" "$P/lib-fallback" "$P/node_modules/webgpu/dist/linux-x64"

# xz_cached SRC DST: DST = xz(SRC), DST.sha256-sidecar = sha256 of SRC (remote.sh checks the unpacked file against it)
xz_cached() {
  local src="$1" dst="$2" sum
  sum="$(sha256sum "$src" | cut -d' ' -f1)"
  local side="${dst%.xz}.sha256"
  if [ -f "$cache/${dst#$P/}" ] && [ "$(cat "$cache/${side#$P/}" 2>/dev/null)" = "$sum" ]; then
    cp "$cache/${dst#$P/}" "$dst"
    echo "   $(basename "$dst"): unchanged, reused"
  else
    echo "   $(basename "$dst"): xz -9 of $(du -h "$src" | cut -f1) (about a minute for node) ..."
    xz -9 -T0 -c "$src" >"$dst"
  fi
  echo "$sum" >"$side"
}

echo "== node $NODE_VER ($NODE_BIN)"
xz_cached "$NODE_BIN" "$P/node.xz"

echo "== webgpu package (Dawn)"
W="$P/node_modules/webgpu"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/LICENSE.md "$W/"
xz_cached "$DAWN" "$W/dist/linux-x64/dawn.node.xz"

echo "== Vulkan loader and the libraries NVIDIA's libGLX_nvidia.so.0 links to (Debian bookworm)"
# libvulkan1: the loader Dawn dlopens. The NVIDIA Vulkan ICD is libGLX_nvidia.so.0, which needs
# libGLdispatch.so.0 (libglvnd0), libX11.so.6 + libXext.so.6 and, through them, xcb, Xau, Xdmcp,
# bsd and md. Container images that mount the driver often lack exactly these.
DEBS=(libvulkan1 libglvnd0 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0)
FALLBACK_DEBS=(libstdc++6 libgcc-s1)
debdir="$cache/debs"
mkdir -p "$debdir/x"
(cd "$debdir" && apt-get download "${DEBS[@]}" "${FALLBACK_DEBS[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
# copy_sonames DEB DEST: the deb's libraries, one real file per soname-style name (lib*.so.N)
copy_sonames() {
  local deb="$1" dest="$2" x="$debdir/x/$(basename "$1" .deb)" f
  dpkg -x "$deb" "$x"
  while IFS= read -r f; do
    cp -L "$f" "$dest/$(basename "$f")"
    echo "   $(basename "$f")  <- $(basename "$deb")"
  done < <(find "$x" \( -type f -o -type l \) -regextype posix-extended -regex '.*/lib[^/]*\.so\.[0-9]+$' | sort)
}
for d in "${DEBS[@]}"; do
  deb=("$debdir/${d}_"*.deb)
  [ -f "${deb[0]}" ] || { echo "prepare.sh: apt-get download $d failed" >&2; exit 1; }
  copy_sonames "${deb[0]}" "$P/lib"
done
for d in "${FALLBACK_DEBS[@]}"; do
  deb=("$debdir/${d}_"*.deb)
  [ -f "${deb[0]}" ] && copy_sonames "${deb[0]}" "$P/lib-fallback"
done
# every carried library's own dependencies resolve inside lib/ or to glibc
if command -v ldd >/dev/null; then
  miss="$(for f in "$P"/lib/*; do LD_LIBRARY_PATH="$P/lib" ldd "$f" | grep -E 'not found' || true; done)"
  [ -z "$miss" ] || { echo "prepare.sh: unresolved dependencies among the carried libraries:" >&2; echo "$miss" >&2; exit 1; }
  echo "   ldd: every carried library resolves (lib/ + glibc)"
fi

echo "== bundles (esbuild; webgpu stays external: the carried package, loaded at run time)"
# a CommonJS dependency's require('fs') needs a real require in an ESM bundle
BANNER="import { createRequire as __btCreateRequire } from 'node:module'; const require = __btCreateRequire(import.meta.url);"
bundle() { # bundle ENTRY OUT.mjs [more esbuild flags]
  local entry="$1" out="$2"
  shift 2
  npx esbuild "$entry" --bundle --platform=node --format=esm --keep-names --target=node20 \
    --external:webgpu --banner:js="$BANNER" --log-level=warning --outfile="$P/bench/$out" "$@"
  echo "   $out  $(du -h "$P/bench/$out" | cut -f1)  <- $entry"
}
bundle bench/gpu/probe.ts probe.mjs
bundle bench/host-cost.ts host-cost.mjs
bundle bench/matmul-tiles.ts matmul-tiles.mjs
bundle bench/long-sums.ts long-sums.mjs
bundle bench/vi.ts vi.mjs
bundle bench/sgmcmc.ts sgmcmc.mjs
# tfjs-webgpu is bundled (a few MiB); jax-js is not used by this bench and stays out
bundle bench/webgpu.ts webgpu.mjs --external:@jax-js/jax
cp examples/data/breast-cancer.csv "$P/bench/"
cp package.json "$P/package.json"

echo "== test bundles: the WebGPU suite (every test file with WebGPU bodies) and its runner"
# two files spawn tsx, which the device has not: device.test.ts (a script's exit) and
# vi-bench.test.ts (the VI bench as a child); the benches run bench/vi.ts there anyway
rm -rf "$P/test"
mapfile -t TESTS < <(grep -rlE 'backendsUnderTest|webgpuOrSkip|findWebgpu' test --include='*.test.ts' | grep -v -e '^test/webgpu/device.test.ts$' -e '^test/webgpu/vi-bench.test.ts$' | sort)
# one bundle per file, the code they share in chunks (the library once, not 64 times)
npx esbuild "${TESTS[@]}" test/run.ts --bundle --splitting --platform=node --format=esm --keep-names --target=node20 \
  --external:webgpu --banner:js="$BANNER" --log-level=warning --outdir="$P/test" --outbase=test --out-extension:.js=.mjs
cp test/jax/fixture.json "$P/test/jax/"
echo "   test/: ${#TESTS[@]} test files + run.mjs, $(du -sh "$P/test" | cut -f1)"
# version stubs for the bundled peers: bench/webgpu.ts checks they are installed and reads their
# versions through require.resolve; "main" is the package.json itself, so nothing else is needed
for pkg in @tensorflow/tfjs @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu @tensorflow/tfjs-backend-webgpu; do
  mkdir -p "$P/bench/node_modules/$pkg"
  node -e 'const p=require(process.argv[1]); console.log(JSON.stringify({name:p.name,version:p.version,main:"package.json",description:"version stub: the code is bundled in ../../webgpu.mjs (bench/gpu/prepare.sh)"},null,1))' \
    "$root/bench/node_modules/$pkg/package.json" >"$P/bench/node_modules/$pkg/package.json"
done

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+dirty"
{
  echo "bayestape bench/gpu payload"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) from commit $commit"
  echo "node: $NODE_VER"
  echo "webgpu (Dawn): $(node -p 'require("./node_modules/webgpu/package.json").version')"
  echo "tfjs-backend-webgpu: $(node -p 'require("./bench/node_modules/@tensorflow/tfjs-backend-webgpu/package.json").version')"
  echo "debs: $(cd "$debdir" && ls *.deb | tr '\n' ' ')"
  echo "files:"
  (cd "$P" && find . -type f ! -name MANIFEST.txt -printf '%10s  %p\n' | sort -k2)
} >"$P/MANIFEST.txt"

size="$(du -sb "$P" | cut -f1)"
echo "== payload: $P"
echo "   $(numfmt --to=iec-i --suffix=B "$size") ($size bytes) of at most $(numfmt --to=iec-i --suffix=B $LIMIT)"
[ "$size" -le "$LIMIT" ] || { echo "prepare.sh: the payload is over the limit" >&2; exit 1; }
echo "   next: run 'bash bench/gpu/remote.sh' on the device with carry [\"bench/gpu/payload\"] (bench/gpu/README.md)"
