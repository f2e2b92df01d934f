/**
 * Harness for test bodies written once and run on every backend: backend descriptors with their
 * tolerances, registration of a body per backend, async reads, and host-side (float64) central
 * differences of functions evaluated on the backend under test.
 *
 * Tolerances on float32 are derived, not tuned:
 *  - eps: the dtype's unit roundoff (2⁻⁵³ / 2⁻²⁴ rounded up to the machine epsilon).
 *  - FD noise: each backend output is taken to be accurate to ULPS·eps·|y| (ULPS = 64 ulps for the
 *    short op chains here), so a central difference over 2h carries ULPS·eps·(|y₊|+|y₋|)/(2h).
 *  - ULPS is a budget in the units of f32-bound.ts, what WGSL allows each op: +, −, × 1 ulp, ÷ 2.5,
 *    sqrt 4.5, exp and sin 2, tanh and sigmoid 17 (the accuracy parity.test.ts holds them to) — a
 *    chain of two tanh and a dozen arithmetic ops, say — and where an entry cancels, the error is
 *    relative to the terms, not the entry: so AD-vs-AD checks (adClose, close) add an absolute
 *    floor of adRtol·max|want|, or adRtol·Σ|terms| per entry where the test knows the terms (`mag`).
 *    A check whose chain may need more than the budget bounds its expression with f32-bound.ts
 *    instead (fusion.test.ts does), rather than raising ULPS.
 *  - FD truncation: O(h²); with h = 1e-2·scale on float32 that is ~1e-4 relative, well inside rtol.
 *  - the input perturbation is rounded to the backend dtype on the host, and the *actual* step
 *    (x₊ − x₋) is what the analytic side is contracted with, so input rounding cancels exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../src/index.js';
import { assertClose as assertCloseF64, rng, shapeSize, type HostArray } from './helpers.js';
import type { WebGPUBackend } from '../src/backends/webgpu/index.js';

export interface BackendCase {
  name: 'cpu' | 'webgpu';
  dtype: 'float64' | 'float32';
  /** relative tolerance of AD vs finite differences */
  rtol: number;
  /** absolute floor for Jacobian-entry comparisons vs FD (≈ truncation h², or float64 noise) */
  atol: number;
  /** relative tolerance of AD vs AD (two exact formulas for the same value, only rounding differs) */
  adRtol: number;
  /** unit roundoff of the dtype */
  eps: number;
  /** central-difference step, relative to max(1, |x|∞) */
  fdStep: number;
}

export const ULPS = 64;

/** The WebGPU backend (its adapter printed as a [note]), or why there is none. */
export async function findWebgpu(file: string): Promise<WebGPUBackend | string> {
  try {
    const gpu = (await bt.ready('webgpu')) as WebGPUBackend;
    console.log(`[note] webgpu adapter (${file}): ${gpu.adapterLabel}${gpu.adapterInfo.isFallbackAdapter ? ' (fallback adapter)' : ''}`);
    return gpu;
  } catch (e) {
    return (e as Error).message.replace(/\s*\n\s*/g, ' ');
  }
}

/**
 * The backends a test file runs its bodies on: CPU always, WebGPU when an adapter is found (its
 * label is printed as a [note]). Without one: a failing test under CI=true (WebGPU must really run
 * in CI), otherwise a loud [note] ... SKIPPED line and CPU bodies only.
 */
export async function backendsUnderTest(file: string): Promise<BackendCase[]> {
  const backends: BackendCase[] = [CPU];
  const gpu = await findWebgpu(file);
  if (typeof gpu !== 'string') backends.push(WEBGPU);
  else if (process.env.CI === 'true') {
    test(`${file}: a WebGPU adapter is available in CI`, () => {
      assert.unreachable(`CI=true but no WebGPU adapter: ${gpu}`);
    });
  } else {
    console.log(`[note] webgpu bodies in ${file} SKIPPED: no WebGPU adapter (${gpu}). With CI=true this is a failure. CPU bodies still run.`);
  }
  console.log(`[note] ${file}: backends ${backends.map((b) => `${b.name}/${b.dtype}`).join(', ')}`);
  return backends;
}

export const CPU: BackendCase = { name: 'cpu', dtype: 'float64', rtol: 1e-6, atol: 1e-9, adRtol: 1e-10, eps: 2.220446049250313e-16, fdStep: 1e-6 };
export const WEBGPU: BackendCase = { name: 'webgpu', dtype: 'float32', rtol: 2e-3, atol: 1e-4, adRtol: ULPS * 1.1920928955078125e-7, eps: 1.1920928955078125e-7, fdStep: 1e-2 };

/** Rounds a host value to what the backend stores. */
export function toDtype(B: BackendCase, v: number): number {
  return B.dtype === 'float32' ? Math.fround(v) : v;
}

/**
 * Registers `body` once per backend in `backends`, named `${name} [backend]`. The body runs with
 * that backend current (tensors it creates live there); the previous backend is restored after.
 * `cpuOnly` (a reason) registers the body on CPU only and prints a [note] naming it.
 */
export function registerAll(backends: BackendCase[], name: string, body: (B: BackendCase) => Promise<void> | void, cpuOnly?: string): void {
  for (const B of backends) {
    if (cpuOnly && B.name !== 'cpu') {
      console.log(`[note] '${name}' registered for CPU only on ${B.name}: ${cpuOnly}`);
      continue;
    }
    test(`${name} [${B.name}]`, async () => {
      const prev = bt.getBackend();
      bt.setBackend(B.name);
      try {
        await body(B);
      } finally {
        bt.setBackend(prev);
      }
    });
  }
}

export async function read(t: bt.Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

export async function scalar(t: bt.Tensor): Promise<number> {
  assert.is(t.size, 1, `scalar(): shape [${t.shape.join(', ')}]`);
  return (await read(t))[0]!;
}

export function hostRandn(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** A tensor of the backend's float dtype from host numbers (created on the current backend). */
export function T(B: BackendCase, values: number[], shape: readonly number[]): bt.Tensor {
  return bt.tensor(B.dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values), { shape: [...shape], dtype: B.dtype });
}

/** Standard normals mapped through `dom` (an op's smooth domain), rounded to the backend's dtype so exact comparisons are meaningful. */
export function hostData(B: BackendCase, shape: number[], seed: number, dom: (z: number) => number = (z) => z): HostArray {
  const r = rng(seed);
  const data = Array.from({ length: shapeSize(shape) }, () => toDtype(B, dom(Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()))));
  return { data, shape };
}

/** A host array as a tensor of the backend's float dtype. */
export const hostTensor = (B: BackendCase, h: HostArray): bt.Tensor => T(B, h.data, h.shape);

export function randnB(B: BackendCase, shape: readonly number[], seed: number, scale = 1): bt.Tensor {
  return T(B, hostRandn(size(shape), seed).map((v) => v * scale), shape);
}

export function ints(values: number[], shape: number[] = [values.length]): bt.Tensor {
  return bt.tensor(Int32Array.from(values), { shape, dtype: 'int32' });
}

/** |got − want| ≤ atol + rtol·|want| (+ extra[i]) elementwise, naming the worst entry. */
export function assertCloseArr(got: number[], want: number[], rtol: number, atol: number, what: string, extra?: number[]): void {
  assert.is(got.length, want.length, `${what}: length ${got.length} vs ${want.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]!) + (extra?.[i] ?? 0);
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= tol) && err - tol >= worstExcess) {
      worst = i;
      worstExcess = err - tol;
    }
  }
  if (worst >= 0) {
    const tol = atol + rtol * Math.abs(want[worst]!) + (extra?.[worst] ?? 0);
    assert.unreachable(`${what} entry ${worst}/${got.length}: got ${got[worst]}, expected ${want[worst]} (|err| ${Math.abs(got[worst]! - want[worst]!).toExponential(2)} > tol ${tol.toExponential(2)}; rtol ${rtol}, atol ${atol})`);
  }
}

export async function assertClose(got: bt.Tensor | number[] | number, want: bt.Tensor | number[] | number, rtol: number, atol: number, what: string, extra?: number[]): Promise<void> {
  const flat = async (x: bt.Tensor | number[] | number) => (typeof x === 'number' ? [x] : Array.isArray(x) ? x : await read(x));
  if (got instanceof bt.Tensor && want instanceof bt.Tensor) assert.equal([...got.shape], [...want.shape], `${what}: shape`);
  assertCloseArr(await flat(got), await flat(want), rtol, atol, what, extra);
}

/** Central-difference Jacobian [out ++ in] of f at x, differences taken on the host in float64. */
export async function numericJacobian(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor): Promise<{ J: number[]; noise: number[]; shape: number[] }> {
  const base = await read(x);
  const scale = Math.max(1, ...base.map(Math.abs));
  const h = B.fdStep * scale;
  const cols: number[][] = [];
  const noiseCols: number[][] = [];
  let outShape: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const xp = base.slice();
    const xm = base.slice();
    xp[i] = toDtype(B, base[i]! + h);
    xm[i] = toDtype(B, base[i]! - h);
    const dx = xp[i]! - xm[i]!;
    const yp = f(T(B, xp, x.shape));
    const ym = f(T(B, xm, x.shape));
    assert.is(yp.backend, B.name, `numericJacobian: ran on ${B.name}`);
    outShape = [...yp.shape];
    const a = await read(yp);
    const b = await read(ym);
    bt.dispose([yp, ym]);
    cols.push(a.map((v, k) => (v - b[k]!) / dx));
    noiseCols.push(a.map((v, k) => (ULPS * B.eps * (Math.abs(v) + Math.abs(b[k]!))) / dx));
  }
  const nOut = cols[0]?.length ?? 0;
  const J = new Array<number>(nOut * base.length);
  const noise = new Array<number>(nOut * base.length);
  for (let o = 0; o < nOut; o++) {
    for (let i = 0; i < base.length; i++) {
      J[o * base.length + i] = cols[i]![o]!;
      noise[o * base.length + i] = noiseCols[i]![o]!;
    }
  }
  return { J, noise, shape: [...outShape, ...x.shape] };
}

/** AD Jacobian entries vs host FD: rtol·|fd| + atol·max(1, max|J|) + FD rounding noise per entry. */
export async function assertJacobianVsFD(B: BackendCase, jac: bt.Tensor, fd: { J: number[]; noise: number[]; shape: number[] }, what: string): Promise<void> {
  assert.equal([...jac.shape], fd.shape, `${what}: shape`);
  const maxJ = Math.max(1, ...fd.J.map(Math.abs));
  assertCloseArr(await read(jac), fd.J, B.rtol, B.atol * maxJ, what, fd.noise);
}

/**
 * Directional check of reverse mode (vjp with a random cotangent) and forward mode (jvp with a
 * random tangent) against a central difference of s(z) = ⟨ct, f(z)⟩ along the tangent, f
 * evaluated on the backend and the difference taken on the host in float64.
 */
export async function checkDirectional(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, seed: number, what: string): Promise<void> {
  const y = f(x);
  assert.is(y.backend, B.name, `${what}: ran on ${B.name}`);
  const ctv = hostRandn(y.size, seed + 100);
  const ct = T(B, ctv, y.shape);
  const ctr = await read(ct); // ct as the backend holds it
  const base = await read(x);
  const tv = hostRandn(base.length, seed + 200);
  const scale = Math.max(1, ...base.map(Math.abs));
  const h = B.fdStep * scale;
  const xp = base.map((v, i) => toDtype(B, v + h * tv[i]!));
  const xm = base.map((v, i) => toDtype(B, v - h * tv[i]!));
  // the perturbation actually applied, per unit of the 2h step
  const dir = xp.map((v, i) => (v - xm[i]!) / (2 * h));
  const evalS = async (z: number[]) => {
    const yz = await read(f(T(B, z, x.shape)));
    let s = 0;
    let a = 0;
    for (let k = 0; k < yz.length; k++) {
      s += ctr[k]! * yz[k]!;
      a += Math.abs(ctr[k]! * yz[k]!);
    }
    return [s, a] as const;
  };
  const [sp, ap] = await evalS(xp);
  const [sm, am] = await evalS(xm);
  const fd = (sp - sm) / (2 * h);
  const noise = (ULPS * B.eps * (ap + am)) / (2 * h);

  const [, pb] = bt.vjp(f, x);
  const g = await read(pb(ct)[0] as bt.Tensor);
  let rev = 0;
  let revAbs = 0;
  for (let i = 0; i < g.length; i++) {
    rev += g[i]! * dir[i]!;
    revAbs += Math.abs(g[i]! * dir[i]!);
  }
  const tan = T(B, dir, x.shape);
  const jt = await read(bt.jvp(f, [x], [tan])[1] as bt.Tensor);
  let fwd = 0;
  let fwdAbs = 0;
  for (let k = 0; k < jt.length; k++) {
    fwd += jt[k]! * ctr[k]!;
    fwdAbs += Math.abs(jt[k]! * ctr[k]!);
  }
  // relative to the size of the terms whose sum is the directional derivative (cancellation-aware)
  const tolRev = B.rtol * Math.max(Math.abs(fd), 1e-3 * revAbs) + noise + 1e-12;
  const tolFwd = B.rtol * Math.max(Math.abs(fd), 1e-3 * fwdAbs) + noise + 1e-12;
  if (process.env.BT_SUITE_VERBOSE) console.log(`[${B.name}] ${what}: fd ${fd.toExponential(4)} rev err/tol ${(Math.abs(rev - fd) / tolRev).toFixed(3)} fwd err/tol ${(Math.abs(fwd - fd) / tolFwd).toFixed(3)} noise/tol ${(noise / tolRev).toFixed(3)}`);
  assert.ok(Math.abs(rev - fd) <= tolRev, `${what} reverse: ${rev} vs finite differences ${fd} (|err| ${Math.abs(rev - fd).toExponential(2)} > tol ${tolRev.toExponential(2)}, FD noise ${noise.toExponential(2)})`);
  assert.ok(Math.abs(fwd - fd) <= tolFwd, `${what} forward: ${fwd} vs finite differences ${fd} (|err| ${Math.abs(fwd - fd).toExponential(2)} > tol ${tolFwd.toExponential(2)}, FD noise ${noise.toExponential(2)})`);
}

const maxAbs = (v: number[]) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/**
 * AD vs AD (or vs a closed form): on CPU `helpers.assertClose(got, want, cpuRtol, cpuAtol)` (the
 * float64 checks as they were); on WebGPU rtol B.adRtol with an absolute floor of
 * B.adRtol·max|want| (rounding errors of entries that cancel are relative to the scale of the
 * terms, not to the entry).
 */
export async function adClose(B: BackendCase, got: bt.Tensor | number, want: bt.Tensor | number[] | number, cpuRtol: number, cpuAtol: number, what: string): Promise<void> {
  if (B.name === 'cpu') {
    assertCloseF64(got, want, cpuRtol, cpuAtol, what);
    return;
  }
  if (got instanceof bt.Tensor && want instanceof bt.Tensor) assert.equal([...got.shape], [...want.shape], `${what}: shape`);
  const g = typeof got === 'number' ? [got] : await read(got);
  const w = typeof want === 'number' ? [want] : Array.isArray(want) ? want : await read(want);
  assertCloseArr(g, w, B.adRtol, B.adRtol * maxAbs(w), what);
}

/** [rtol, atol] */
export type Tol = [number, number];
/** Bit for bit. */
export const EXACT: Tol = [0, 0];
/** float32 AD vs AD / closed forms: the WebGPU case's adRtol, relative and absolute. */
export const AD32: Tol = [WEBGPU.adRtol, WEBGPU.adRtol];

/**
 * got vs want: on CPU helpers.assertClose with the CPU tolerance (unchanged); on WebGPU the
 * float32 tolerance (identical entries pass on both), plus adRtol × `mag` per entry where given (the size of the terms summed).
 */
export async function close(B: BackendCase, got: bt.Tensor | number[] | number, want: bt.Tensor | number[] | number, what: string, cpu: Tol, gpu: Tol, mag?: number[]): Promise<void> {
  const flat = async (x: bt.Tensor | number[] | number) => (typeof x === 'number' ? [x] : Array.isArray(x) ? x : await read(x));
  if (got instanceof bt.Tensor && want instanceof bt.Tensor) assert.equal([...got.shape], [...want.shape], `${what}: shape`);
  const g = await flat(got);
  const w = await flat(want);
  if (B.name === 'cpu') return assertCloseF64(g, w, cpu[0], cpu[1], what);
  const same = g.map((v, i) => v === w[i] || (Number.isNaN(v) && Number.isNaN(w[i]!)));
  assertCloseArr(g.map((v, i) => (same[i] ? 0 : v)), w.map((v, i) => (same[i] ? 0 : v)), gpu[0], gpu[1], what, mag?.map((m) => WEBGPU.adRtol * m));
}
