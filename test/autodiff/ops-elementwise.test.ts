/**
 * Property tests of the elementwise primitives: forward values against plain-JS references
 * (with NumPy broadcasting done on the host), and reverse + forward mode against central finite
 * differences on random shapes (rank 0-3, dims 1-4) and random broadcasting pairs.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * tolerances and the float64 FD check of ../helpers.ts exactly as before (values 1e-12 / 1e-14,
 * gradients rtol 1e-6 with h 1e-6), and `name [webgpu]` in float32 with the harness's float32
 * FD check and, for values, 64 float32 ulps (the harness's adRtol) relative plus the same absolute
 * floor for O(1)-scaled values (the float32 analogue of the CPU's 1e-12 / 1e-14). Host inputs are
 * rounded to the backend's dtype before the host reference is computed from them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as bt from '../../src/index.js';
import {
  assertCloseArr, backendsUnderTest, checkDirectional, CPU as CPU64, read, registerAll, T, toDtype, WEBGPU, type BackendCase,
  hostData, hostTensor,
} from '../backend-harness.js';
import { assertClose as assertClose64, checkDirectional as checkDirectional64, hostMap, rng, shapeSize, type HostArray } from '../helpers.js';

const backends = await backendsUnderTest('ops-elementwise');

const FC = { seed: 42, numRuns: 20, includeErrorInReport: true };
/** WebGPU runs as many cases as the CPU (lower only if the file's runtime demands it). */
const GPU_RUNS = 20;
const fcFor = (B: BackendCase, o: { numRuns: number } = FC) => (B.name === 'cpu' ? { ...FC, ...o } : { ...FC, ...o, numRuns: Math.min(o.numRuns, GPU_RUNS) });
const VAL_RTOL = 1e-12;
const GRAD_RTOL = 1e-6;

/** [rtol, atol] */
type Tol = [number, number];
const EXACT: Tol = [0, 0];
/** float64 values (CPU), as before */
const VAL64: Tol = [VAL_RTOL, 1e-14];
/** float32 values (WebGPU): 64 ulps relative, and absolute for O(1)-scaled values */
const ADR = WEBGPU.adRtol;
const VAL32: Tol = [ADR, ADR];

/**
 * Values vs a host reference: on CPU helpers.assertClose with the CPU tolerance (unchanged); on
 * WebGPU the float32 tolerance (plus per-entry `extra`). Identical entries (±Infinity) and NaN
 * where NaN is expected pass on both, as helpers.assertClose does.
 */
async function close(B: BackendCase, got: bt.Tensor | number[] | number, want: bt.Tensor | number[] | number, what: string, cpu: Tol, gpu: Tol, extra?: number[]): Promise<void> {
  const flat = async (x: bt.Tensor | number[] | number) => (typeof x === 'number' ? [x] : Array.isArray(x) ? x : await read(x));
  const g = await flat(got);
  const w = await flat(want);
  if (B.name === 'cpu') return assertClose64(g, w, cpu[0], cpu[1], what);
  const same = g.map((v, i) => v === w[i] || (Number.isNaN(v) && Number.isNaN(w[i]!)));
  assertCloseArr(g.map((v, i) => (same[i] ? 0 : v)), w.map((v, i) => (same[i] ? 0 : v)), gpu[0], gpu[1], what, extra);
}

/**
 * float32 FD step for ops whose curvature length on their domain is short against the harness's
 * step 1e-2·max(1, |x|∞): inputs within ~0.2 of a singularity (1/x, log, rsqrt, pow's base,
 * erfinv near ±0.95), or sigmoid-like ops on 3·N(0, 1) inputs (|x|∞ up to ~9, a step of ~0.09
 * against a curvature length of ~1). There the default step gives an O(h²) truncation error of up
 * to ~1% (the same check in float64 with that step fails the same way, with the same AD values).
 * 10× smaller cuts it 100×; the harness's rounding-noise term (∝ 1/h) grows 10× with it (still
 * well under 1% of these directional derivatives).
 */
const NEAR_SINGULAR_STEP = 1e-3;

/**
 * Reverse + forward mode vs central differences: float64 (helpers.ts, unchanged) on CPU, the
 * harness's float32 check on WebGPU (with FD step `step32` if given).
 */
async function dir(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, seed: number, what: string, step32?: number): Promise<void> {
  assert.is(x.backend, B.name, `${what}: input on ${B.name}`);
  if (B.name === 'cpu') checkDirectional64(f, x, seed, GRAD_RTOL, what);
  else await checkDirectional(step32 ? { ...B, fdStep: step32 } : B, f, x, seed, what);
}

// ---- generators -----------------------------------------------------------------------------

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });

/**
 * Two shapes that broadcast together: from a base shape, each side sets random dims to 1, the
 * second also drops random leading dims, and the pair is swapped at random (so either side, or
 * both at once, may be the one that broadcasts).
 */
const pairArb = fc
  .record({
    base: shapeArb,
    onesA: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    onesB: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    drop: fc.integer({ min: 0, max: 3 }),
    swap: fc.boolean(),
    seed: seedArb,
  })
  .map(({ base, onesA, onesB, drop, swap, seed }) => {
    const a = base.map((d, i) => (onesA[i] ? 1 : d));
    const b = base.map((d, i) => (onesB[i] ? 1 : d)).slice(Math.min(drop, base.length));
    return swap ? { sa: b, sb: a, seed } : { sa: a, sb: b, seed };
  });



// smooth domains
const positive = (z: number) => 0.3 + Math.abs(z);
const awayFromZero = (z: number) => (z < 0 ? -1 : 1) * (0.2 + Math.abs(z));
const openUnit = (z: number) => 0.95 * Math.tanh(z);
/** Values on a 1/8 grid shifted by `off`: two such sets with different offsets never tie or come closer than ~0.03. */
const grid = (off: number) => (z: number) => Math.round(z * 8) / 8 + off;
/**
 * `grid` for inputs near kinks (maximum, minimum, clip), scaled to the FD step: ×1 on float64
 * (h = 1e-6), ×8 on float32 (a 1-grid, margin 0.24), where the harness perturbs an entry by
 * 1e-2·max(1, |x|∞)·t ≲ 0.05·t, so that no perturbed point crosses a kink.
 */
const kinkScale = (B: BackendCase) => (B.dtype === 'float32' ? 8 : 1);
const kinkGrid = (B: BackendCase, off: number) => (z: number) => kinkScale(B) * grid(off)(z / kinkScale(B));

// ---- host references for special functions ------------------------------------------------

/** erf by its Maclaurin series (|x| ≤ 2.5 here: at most ~2 digits of cancellation). */
function erfRef(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-18 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erf⁻¹ by Newton's method on erfRef. */
function erfinvRef(y: number): number {
  let x = 0;
  for (let i = 0; i < 100; i++) {
    const step = (erfRef(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
    x -= step;
    if (Math.abs(step) < 1e-17) break;
  }
  return x;
}

const sigmoidRef = (x: number) => 1 / (1 + Math.exp(-x));
const softplusRef = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

// ---- unary ops --------------------------------------------------------------------------------

interface Unary {
  name: string;
  fn: (x: bt.Tensor) => bt.Tensor;
  ref: (v: number) => number;
  dom?: (z: number) => number;
  /** float32 FD step (NEAR_SINGULAR_STEP near a singularity) */
  step32?: number;
}

const UNARY: Unary[] = [
  { name: 'neg', fn: bt.neg, ref: (v) => -v },
  { name: 'exp', fn: bt.exp, ref: Math.exp },
  { name: 'log', fn: bt.log, ref: Math.log, dom: positive, step32: NEAR_SINGULAR_STEP },
  { name: 'log1p', fn: bt.log1p, ref: Math.log1p, dom: (z) => 0.5 * Math.abs(z) - 0.5, step32: NEAR_SINGULAR_STEP },
  { name: 'expm1', fn: bt.expm1, ref: Math.expm1 },
  { name: 'sqrt', fn: bt.sqrt, ref: Math.sqrt, dom: positive, step32: NEAR_SINGULAR_STEP },
  { name: 'rsqrt', fn: bt.rsqrt, ref: (v) => 1 / Math.sqrt(v), dom: positive, step32: NEAR_SINGULAR_STEP },
  { name: 'square', fn: bt.square, ref: (v) => v * v },
  { name: 'reciprocal', fn: bt.reciprocal, ref: (v) => 1 / v, dom: awayFromZero, step32: NEAR_SINGULAR_STEP },
  { name: 'abs', fn: bt.abs, ref: Math.abs, dom: awayFromZero },
  { name: 'sin', fn: bt.sin, ref: Math.sin },
  { name: 'cos', fn: bt.cos, ref: Math.cos },
  { name: 'tanh', fn: bt.tanh, ref: Math.tanh },
  { name: 'sigmoid', fn: bt.sigmoid, ref: sigmoidRef, dom: (z) => 3 * z, step32: NEAR_SINGULAR_STEP },
  { name: 'softplus', fn: bt.softplus, ref: softplusRef, dom: (z) => 3 * z, step32: NEAR_SINGULAR_STEP },
  { name: 'logSigmoid', fn: bt.logSigmoid, ref: (v) => -softplusRef(-v), dom: (z) => 3 * z, step32: NEAR_SINGULAR_STEP },
  { name: 'relu', fn: bt.relu, ref: (v) => Math.max(v, 0), dom: awayFromZero },
  { name: 'erf', fn: bt.erf, ref: erfRef, dom: (z) => 2.5 * Math.tanh(z) },
  { name: 'erfinv', fn: bt.erfinv, ref: erfinvRef, dom: openUnit, step32: NEAR_SINGULAR_STEP },
];

for (const op of UNARY) {
  registerAll(backends, `${op.name}: values match the host reference and JVP/VJP match finite differences`, async (B) => {
    await fc.assert(
      fc.asyncProperty(shapeArb, seedArb, async (shape, seed) => {
        const h = hostData(B, shape, seed, op.dom);
        const x = hostTensor(B, h);
        const y = op.fn(x);
        assert.equal([...y.shape], shape, `${op.name} shape`);
        assert.is(y.dtype, B.dtype);
        await close(B, y, hostMap(op.ref, h).data, `${op.name} value`, VAL64, VAL32);
        await dir(B, op.fn, x, seed, `${op.name} ${JSON.stringify(shape)}`, op.step32);
      }),
      fcFor(B),
    );
  });
}

registerAll(backends, 'log near 1 and log1p / expm1 / tanh / sin / erf near 0 are relatively accurate (no absolute floor)', async (B) => {
  // the property bodies above allow an absolute floor; here the results are small, so a kernel
  // that is only absolutely accurate (WGSL's log on [0.5, 2]: thousands of ulp relative near 1) fails
  const grid = Array.from({ length: 401 }, (_, i) => toDtype(B, 0.9 + (0.2 * i) / 400));
  const tiny = [1e-7, 3e-6, 1e-4, 0.003, 0.02, 0.1].flatMap((v) => [v, -v]).map((v) => toDtype(B, v));
  const cases: [string, (x: bt.Tensor) => bt.Tensor, (v: number) => number, number[]][] = [
    ['log', bt.log, Math.log, grid],
    ['log1p', bt.log1p, Math.log1p, tiny],
    ['expm1', bt.expm1, Math.expm1, tiny],
    ['tanh', bt.tanh, Math.tanh, tiny],
    ['sin', bt.sin, Math.sin, tiny],
    ['erf', bt.erf, erfRef, tiny],
  ];
  for (const [name, f, ref, xs] of cases) {
    await close(B, f(T(B, xs, [xs.length])), xs.map(ref), `${name} (relative)`, [VAL_RTOL, 0], [ADR, 0]);
  }
});

registerAll(backends, 'softplus / logSigmoid / sigmoid are stable for large |x| (values and gradients finite)', async (B) => {
  const x = T(B, [-1000, -50, 50, 1000], [4]);
  const cpu: Tol = [1e-12, 1e-300];
  const gpu: Tol = [ADR, 0];
  await close(B, bt.softplus(x), [0, Math.exp(-50), 50 + Math.exp(-50), 1000], 'softplus', cpu, gpu);
  await close(B, bt.logSigmoid(x), [-1000, -50 - Math.exp(-50), -Math.exp(-50), 0], 'logSigmoid', cpu, gpu);
  await close(B, bt.sigmoid(x), [0, sigmoidRef(-50), sigmoidRef(50), 1], 'sigmoid', cpu, gpu);
  const g1 = bt.grad((z: bt.Tensor) => bt.sum(bt.softplus(z)))(x);
  await close(B, g1, [0, sigmoidRef(-50), sigmoidRef(50), 1], 'softplus grad', cpu, gpu);
  const g2 = bt.grad((z: bt.Tensor) => bt.sum(bt.logSigmoid(z)))(x);
  await close(B, g2, [1, sigmoidRef(50), sigmoidRef(-50), 0], 'logSigmoid grad', cpu, gpu);
});

registerAll(backends, 'pow with a constant integer exponent differentiates on negative bases (w.r.t. the base)', async (B) => {
  const x = T(B, [-2, -0.5, 1.5], [3]);
  const cpu: Tol = [VAL_RTOL, 0];
  const gpu: Tol = [ADR, 0];
  await close(B, bt.pow(x, 3), [-8, -0.125, 3.375], 'pow value', cpu, gpu);
  const g = bt.grad((z: bt.Tensor) => bt.sum(bt.pow(z, 3)))(x);
  await close(B, g, [12, 0.75, 6.75], 'pow grad', cpu, gpu);
  const [, t] = bt.jvp((z: bt.Tensor) => bt.pow(z, 2), [x], [bt.onesLike(x)]);
  await close(B, t as bt.Tensor, [-4, -1, 3], 'pow jvp', cpu, gpu);
});

// ---- binary ops (broadcasting) ----------------------------------------------------------------

interface Binary {
  name: string;
  fn: (a: bt.Tensor, b: bt.Tensor) => bt.Tensor;
  ref: (a: number, b: number) => number;
  domA?: (B: BackendCase) => (z: number) => number;
  domB?: (B: BackendCase) => (z: number) => number;
  step32?: number;
}

const BINARY: Binary[] = [
  { name: 'add', fn: bt.add, ref: (a, b) => a + b },
  { name: 'sub', fn: bt.sub, ref: (a, b) => a - b },
  { name: 'mul', fn: bt.mul, ref: (a, b) => a * b },
  { name: 'div', fn: bt.div, ref: (a, b) => a / b, domB: () => awayFromZero, step32: NEAR_SINGULAR_STEP },
  { name: 'pow', fn: bt.pow, ref: Math.pow, domA: () => positive, domB: () => (z) => 1.5 * z, step32: NEAR_SINGULAR_STEP },
  { name: 'maximum', fn: bt.maximum, ref: Math.max, domA: (B) => kinkGrid(B, 0.03), domB: (B) => kinkGrid(B, 0) },
  { name: 'minimum', fn: bt.minimum, ref: Math.min, domA: (B) => kinkGrid(B, 0.03), domB: (B) => kinkGrid(B, 0) },
  { name: 'atan2', fn: bt.atan2, ref: Math.atan2, domA: () => awayFromZero, domB: () => awayFromZero, step32: NEAR_SINGULAR_STEP },
];

for (const op of BINARY) {
  registerAll(backends, `${op.name}: broadcast values match the host reference and JVP/VJP match finite differences for each argument`, async (B) => {
    await fc.assert(
      fc.asyncProperty(pairArb, async ({ sa, sb, seed }) => {
        const ha = hostData(B, sa, seed, op.domA?.(B));
        const hb = hostData(B, sb, seed + 7, op.domB?.(B));
        const a = hostTensor(B, ha);
        const b = hostTensor(B, hb);
        const y = op.fn(a, b);
        const ref = hostMap(op.ref, ha, hb);
        assert.equal([...y.shape], ref.shape, `${op.name} shape ${JSON.stringify([sa, sb])}`);
        assert.is(y.dtype, B.dtype);
        await close(B, y, ref.data, `${op.name} value`, VAL64, VAL32);
        const what = `${op.name} ${JSON.stringify(sa)} ⊕ ${JSON.stringify(sb)}`;
        await dir(B, (x) => op.fn(x, b), a, seed, `${what} d/da`, op.step32);
        await dir(B, (x) => op.fn(a, x), b, seed + 1, `${what} d/db`, op.step32);
      }),
      fcFor(B),
    );
  });
}

registerAll(backends, 'binary ops accept a JS number on either side (weakly typed scalar)', async (B) => {
  const h = hostData(B, [2, 3], 5, positive);
  const x = hostTensor(B, h);
  const cpu: Tol = [VAL_RTOL, 0];
  const gpu: Tol = [ADR, 0];
  await close(B, bt.sub(2, x), hostMap((v) => 2 - v, h).data, '2 - x', cpu, gpu);
  await close(B, bt.div(x, 4), hostMap((v) => v / 4, h).data, 'x / 4', cpu, gpu);
  await close(B, bt.pow(2, x), hostMap((v) => 2 ** v, h).data, '2 ** x', cpu, gpu);
  await dir(B, (z) => bt.pow(2, z), x, 3, '2 ** x');
  await dir(B, (z) => bt.div(1.5, z), x, 4, '1.5 / x', NEAR_SINGULAR_STEP);
});

registerAll(backends, 'maximum/minimum split the derivative evenly at ties', async (B) => {
  const a = T(B, [1, 2, 3], [3]);
  const b = T(B, [1, 0, 5], [3]);
  const [ga, gb] = bt.grad((x: bt.Tensor, y: bt.Tensor) => bt.sum(bt.maximum(x, y)), { argnums: [0, 1] })(a, b);
  await close(B, ga, [0.5, 1, 0], 'maximum d/da', EXACT, EXACT);
  await close(B, gb, [0.5, 0, 1], 'maximum d/db', EXACT, EXACT);
  const [ha, hb] = bt.grad((x: bt.Tensor, y: bt.Tensor) => bt.sum(bt.minimum(x, y)), { argnums: [0, 1] })(a, b);
  await close(B, ha, [0.5, 0, 1], 'minimum d/da', EXACT, EXACT);
  await close(B, hb, [0.5, 1, 0], 'minimum d/db', EXACT, EXACT);
});

// ---- clip and where ---------------------------------------------------------------------------

registerAll(backends, 'clip: values and derivatives w.r.t. x, lo and hi (broadcast bounds)', async (B) => {
  const k = kinkScale(B);
  await fc.assert(
    fc.asyncProperty(pairArb, async ({ sa, sb, seed }) => {
      // x on a 1/8 grid + 0.03, bounds on the grid: no ties, never within 0.03 of a kink (all ×8 on float32, see kinkGrid)
      const hx = hostData(B, sa, seed, kinkGrid(B, 0.03));
      const hlo = hostData(B, sb, seed + 1, (z) => kinkGrid(B, 0)(z) - 0.25 * k);
      const hhi = { data: hlo.data.map((v, i) => toDtype(B, v + (0.25 + Math.round(4 * Math.abs(Math.sin(i + seed))) / 8) * k)), shape: hlo.shape };
      const [x, lo, hi] = [hx, hlo, hhi].map((h) => hostTensor(B, h)) as [bt.Tensor, bt.Tensor, bt.Tensor];
      const ref = hostMap((v, l, h) => Math.min(Math.max(v, l), h), hx, hlo, hhi);
      await close(B, bt.clip(x, lo, hi), ref.data, 'clip value', [VAL_RTOL, 0], EXACT);
      const what = `clip ${JSON.stringify([sa, sb])}`;
      await dir(B, (z) => bt.clip(z, lo, hi), x, seed, `${what} d/dx`);
      await dir(B, (z) => bt.clip(x, z, hi), lo, seed + 1, `${what} d/dlo`);
      await dir(B, (z) => bt.clip(x, lo, z), hi, seed + 2, `${what} d/dhi`);
      // scalar bounds
      const refS = hostMap((v) => Math.min(Math.max(v, -0.5), 0.75), hx);
      await close(B, bt.clip(x, -0.5, 0.75), refS.data, 'clip scalar bounds', [VAL_RTOL, 0], EXACT);
      await dir(B, (z) => bt.clip(z, -0.5, 0.75), x, seed + 3, `${what} scalar bounds`);
    }),
    fcFor(B),
  );
});

registerAll(backends, 'where: broadcast values and derivatives w.r.t. both branches (int32 and float conditions)', async (B) => {
  await fc.assert(
    fc.asyncProperty(pairArb, shapeArb, async ({ sa, sb, seed }, sc0) => {
      // the condition's shape is a suffix of the broadcast shape with some dims set to 1
      const out = [...hostMap(() => 0, { data: [0], shape: sa }, { data: [0], shape: sb }).shape];
      const sc = out.slice(out.length - Math.min(sc0.length, out.length)).map((d, i) => (sc0[i]! % 2 === 0 ? 1 : d));
      const hc = hostData(B, sc, seed + 3);
      const ha = hostData(B, sa, seed);
      const hb = hostData(B, sb, seed + 1);
      const [c, a, b] = [hc, ha, hb].map((h) => hostTensor(B, h)) as [bt.Tensor, bt.Tensor, bt.Tensor];
      const cond = bt.greater(c, 0);
      assert.is(cond.dtype, 'int32');
      const ref = hostMap((cv, av, bv) => (cv > 0 ? av : bv), hc, ha, hb);
      const y = bt.where(cond, a, b);
      assert.equal([...y.shape], ref.shape, 'where shape');
      await close(B, y, ref.data, 'where value (int32 condition)', EXACT, EXACT);
      const condF = bt.cast(cond, B.dtype);
      await close(B, bt.where(condF, a, b), ref.data, 'where value (float condition)', EXACT, EXACT);
      const what = `where ${JSON.stringify([sc, sa, sb])}`;
      await dir(B, (z) => bt.where(cond, z, b), a, seed, `${what} d/da`);
      await dir(B, (z) => bt.where(cond, a, z), b, seed + 1, `${what} d/db`);
      await dir(B, (z) => bt.where(condF, z, bt.mul(z, 0.5)), a, seed + 2, `${what} same arg`);
    }),
    fcFor(B),
  );
});

// ---- cast ----------------------------------------------------------------------------------------

registerAll(
  backends,
  'cast float64 <-> float32: values round like Math.fround; derivatives pass through',
  () => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        bt.tidy(() => {
          const h = hostData(CPU64, shape, seed);
          const x = hostTensor(CPU64, h);
          const x32 = bt.cast(x, 'float32');
          assert.is(x32.dtype, 'float32');
          assertClose64(x32, h.data.map(Math.fround), 0, 0, 'cast to float32');
          const back = bt.cast(x32, 'float64');
          assert.is(back.dtype, 'float64');
          assertClose64(back, h.data.map(Math.fround), 0, 0, 'cast back to float64');
          // f(x) = cast(cast(x, f32) * 3, f64): d/dx = 3 exactly
          const f = (z: bt.Tensor) => bt.cast(bt.mul(bt.cast(z, 'float32'), 3), 'float64');
          const g = bt.grad((z: bt.Tensor) => bt.sum(f(z)))(x);
          assert.is(g.dtype, 'float64');
          assertClose64(g, new Array(h.data.length).fill(3), 0, 0, 'grad through cast');
          const t = hostData(CPU64, shape, seed + 1);
          const [, jt] = bt.jvp(f, [x], [hostTensor(CPU64, t)]);
          assert.is((jt as bt.Tensor).dtype, 'float64');
          assertClose64(jt as bt.Tensor, t.data.map((v) => 3 * Math.fround(v)), 1e-6, 0, 'jvp through cast');
          // the cotangent of a float32 input is float32
          const g32 = bt.grad((z: bt.Tensor) => bt.sum(bt.cast(z, 'float64').mul(2)))(x32);
          assert.is(g32.dtype, 'float32');
          assertClose64(g32, new Array(h.data.length).fill(2), 0, 0, 'grad of a float32 input');
        });
      }),
      FC,
    );
  },
  'float64 tensors (WGSL has no 64-bit floats); float32 <-> int32 casts run on WebGPU in the cast-to-int32 body',
);

registerAll(backends, 'float32 elementwise values agree with the float64 reference (CPU: to 1e-6)', async (B) => {
  const F32: BackendCase = { ...B, dtype: 'float32' };
  await fc.assert(
    fc.asyncProperty(shapeArb, seedArb, async (shape, seed) => {
      // CPU: its float32 kernels (float64 math rounded once) to 1e-6 / 1e-7; WebGPU: native float32 to 64 ulps
      const cpu: Tol = [1e-6, 1e-7];
      for (const op of UNARY) {
        const h32 = hostData(F32, shape, seed, op.dom);
        const y = op.fn(T(F32, h32.data, shape));
        assert.is(y.dtype, 'float32', op.name);
        await close(B, y, hostMap(op.ref, h32).data, `${op.name} float32`, cpu, VAL32);
      }
      const hb32 = hostData(F32, shape, seed + 1, positive);
      const h32 = hostData(F32, shape, seed);
      const y = bt.div(T(F32, h32.data, shape), T(F32, hb32.data, shape));
      await close(B, y, hostMap((a, b) => a / b, h32, hb32).data, 'div float32', cpu, VAL32);
    }),
    fcFor(B),
  );
});

registerAll(backends, 'cast to int32 truncates; no gradient flows through it (zero, no error)', async (B) => {
  const x = T(B, [-1.7, -0.2, 0.5, 2.9], [4]);
  const xi = bt.cast(x, 'int32');
  assert.is(xi.dtype, 'int32');
  assert.equal(await read(xi), [-1, 0, 0, 2]);
  const g = bt.grad((z: bt.Tensor) => bt.sum(bt.mul(z, bt.cast(bt.cast(z, 'int32'), B.dtype))))(x);
  await close(B, g, [-1, 0, 0, 2], 'grad with an int32 detour', EXACT, EXACT);
});

// ---- non-differentiable ops ------------------------------------------------------------------

registerAll(backends, 'comparisons give int32 0/1 with broadcasting; isFinite/isNan too', async (B) => {
  await fc.assert(
    fc.asyncProperty(pairArb, async ({ sa, sb, seed }) => {
      const ha = hostData(B, sa, seed, grid(0));
      const hb = hostData(B, sb, seed + 1, grid(0)); // same grid: ties happen
      const a = hostTensor(B, ha);
      const b = hostTensor(B, hb);
      const cases: [string, (x: bt.Tensor, y: bt.Tensor) => bt.Tensor, (x: number, y: number) => boolean][] = [
        ['equal', bt.equal, (x, y) => x === y],
        ['notEqual', bt.notEqual, (x, y) => x !== y],
        ['less', bt.less, (x, y) => x < y],
        ['lessEqual', bt.lessEqual, (x, y) => x <= y],
        ['greater', bt.greater, (x, y) => x > y],
        ['greaterEqual', bt.greaterEqual, (x, y) => x >= y],
      ];
      for (const [name, fn, ref] of cases) {
        const y = fn(a, b);
        assert.is(y.dtype, 'int32', name);
        const r = hostMap((x, z) => (ref(x, z) ? 1 : 0), ha, hb);
        assert.equal([...y.shape], r.shape, `${name} shape`);
        assert.equal(await read(y), r.data, name);
      }
    }),
    fcFor(B),
  );
  const z = T(B, [1, Infinity, -Infinity, NaN], [4]);
  assert.equal(await read(bt.isFinite(z)), [1, 0, 0, 0]);
  assert.equal(await read(bt.isNan(z)), [0, 0, 0, 1]);
  assert.is(bt.isFinite(z).dtype, 'int32');
});

registerAll(backends, 'sign/floor/ceil/round: values, and zero gradients through grad and jvp without errors', async (B) => {
  const x = T(B, [-2.5, -0.7, 0, 0.3, 1.5, 2.5], [6]);
  const xv = await read(x); // as the backend holds them
  const cases: [string, (t: bt.Tensor) => bt.Tensor, (v: number) => number][] = [
    ['sign', bt.sign, (v) => Math.sign(v)],
    ['floor', bt.floor, Math.floor],
    ['ceil', bt.ceil, Math.ceil],
  ];
  for (const [name, fn, ref] of cases) {
    const y = fn(x);
    assert.is(y.dtype, B.dtype, name);
    await close(B, y, xv.map(ref), name, EXACT, EXACT);
    const g = bt.grad((t: bt.Tensor) => bt.sum(fn(t)))(x);
    await close(B, g, new Array(6).fill(0), `${name} grad`, EXACT, EXACT);
    const [, jt] = bt.jvp(fn, [x], [bt.onesLike(x)]);
    await close(B, jt as bt.Tensor, new Array(6).fill(0), `${name} jvp`, EXACT, EXACT);
    // mixed: the differentiable path still gets its gradient
    const g2 = bt.grad((t: bt.Tensor) => bt.sum(bt.mul(t, fn(t))))(x);
    await close(B, g2, xv.map(ref), `${name} mixed grad`, EXACT, EXACT);
  }
  // round: half away from zero or to even are both common; check only the non-half entries
  const r = bt.round(T(B, [-0.7, 0.3, 1.2, 2.8], [4]));
  await close(B, r, [-1, 0, 1, 3], 'round', EXACT, EXACT);
  const gr = bt.grad((t: bt.Tensor) => bt.sum(bt.round(t)))(x);
  await close(B, gr, new Array(6).fill(0), 'round grad', EXACT, EXACT);
  // comparisons inside a differentiated function
  const gm = bt.grad((t: bt.Tensor) => bt.sum(bt.mul(t, bt.cast(bt.greater(t, 0), B.dtype))))(x);
  await close(B, gm, [0, 0, 0, 1, 1, 1], 'grad of x * (x > 0)', EXACT, EXACT);
});

// ---- second order ------------------------------------------------------------------------------

registerAll(backends, 'grad of grad of unary ops matches the known second derivatives (and forward-over-reverse agrees)', async (B) => {
  const c13 = toDtype(B, 1.3); // the constant as the backend holds it
  const cases: [string, (x: bt.Tensor) => bt.Tensor, (v: number) => number, ((z: number) => number)?][] = [
    ['tanh', bt.tanh, (v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)],
    ['exp', bt.exp, Math.exp],
    ['log', bt.log, (v) => -1 / (v * v), positive],
    ['sin', bt.sin, (v) => -Math.sin(v)],
    ['cos', bt.cos, (v) => -Math.cos(v)],
    ['sqrt', bt.sqrt, (v) => -0.25 * v ** -1.5, positive],
    ['rsqrt', bt.rsqrt, (v) => 0.75 * v ** -2.5, positive],
    ['sigmoid', bt.sigmoid, (v) => sigmoidRef(v) * (1 - sigmoidRef(v)) * (1 - 2 * sigmoidRef(v))],
    ['softplus', bt.softplus, (v) => sigmoidRef(v) * (1 - sigmoidRef(v))],
    ['erf', bt.erf, (v) => (-4 * v * Math.exp(-v * v)) / Math.sqrt(Math.PI), (z) => 2 * Math.tanh(z)],
    ['log1p', bt.log1p, (v) => -1 / (1 + v) ** 2, (z) => Math.abs(z)],
    ['expm1', bt.expm1, Math.exp],
    ['reciprocal', bt.reciprocal, (v) => 2 / v ** 3, awayFromZero],
    ['atan2(x, 1.3)', (x) => bt.atan2(x, 1.3), (v) => (-2 * c13 * v) / (v * v + c13 * c13) ** 2],
    ['pow(x, 2.5)', (x) => bt.pow(x, 2.5), (v) => 2.5 * 1.5 * v ** 0.5, positive],
  ];
  for (const [name, f, d2, dom] of cases) {
    const h = hostData(B, [7], 11, dom);
    const x = hostTensor(B, h);
    const want = h.data.map(d2);
    const cpu: Tol = [1e-10, 1e-14];
    const df = (z: bt.Tensor) => bt.grad((t: bt.Tensor) => bt.sum(f(t)))(z);
    const g2 = bt.grad((z: bt.Tensor) => bt.sum(df(z)))(x);
    await close(B, g2, want, `${name}'' (reverse over reverse)`, cpu, VAL32);
    const [, fr] = bt.jvp(df, [x], [bt.onesLike(x)]);
    await close(B, fr as bt.Tensor, want, `${name}'' (forward over reverse)`, cpu, VAL32);
    const [, ff] = bt.jvp((z: bt.Tensor) => bt.jvp(f, [z], [bt.onesLike(z)])[1] as bt.Tensor, [x], [bt.onesLike(x)]);
    await close(B, ff as bt.Tensor, want, `${name}'' (forward over forward)`, cpu, VAL32);
  }
});

registerAll(backends, 'second-order derivatives of binary ops match finite differences of their gradients', async (B) => {
  const a = hostTensor(B, hostData(B, [2, 3], 21, positive));
  const b = hostTensor(B, hostData(B, [3], 22, awayFromZero));
  for (const [name, f] of [
    ['mul', bt.mul],
    ['div', bt.div],
    ['pow', bt.pow],
    ['atan2', bt.atan2],
  ] as [string, (x: bt.Tensor, y: bt.Tensor) => bt.Tensor][]) {
    // gradient w.r.t. a, as a function of a and of b
    const ga = (x: bt.Tensor, y: bt.Tensor) => bt.grad((t: bt.Tensor) => bt.sum(bt.mul(f(t, y), bt.sin(t))))(x);
    // a ≥ 0.3, |b| ≥ 0.2: near the singularities of div, pow and atan2
    await dir(B, (x) => ga(x, b), a, 31, `${name} d²/da²`, NEAR_SINGULAR_STEP);
    await dir(B, (y) => ga(a, y), b, 32, `${name} d²/da db`, NEAR_SINGULAR_STEP);
  }
});

registerAll(backends, 'stopGradient: identity value, zero derivative in grad and jvp, second order too', async (B) => {
  const h = hostData(B, [2, 3], 9);
  const x = hostTensor(B, h);
  await close(B, bt.stopGradient(x), h.data, 'value', EXACT, EXACT);
  const g = bt.grad((z: bt.Tensor) => bt.sum(bt.mul(z, bt.stopGradient(z))))(x);
  await close(B, g, h.data, 'd/dx x·sg(x) = sg(x)', EXACT, EXACT);
  const [, t] = bt.jvp((z: bt.Tensor) => bt.stopGradient(z).mul(z), [x], [bt.onesLike(x)]);
  await close(B, t as bt.Tensor, h.data, 'jvp', EXACT, EXACT);
  const g2 = bt.grad((z: bt.Tensor) => bt.sum(bt.grad((w: bt.Tensor) => bt.sum(bt.mul(bt.square(w), bt.stopGradient(w))))(z)))(x);
  await close(B, g2, h.data.map((v) => 2 * v), 'second order', [1e-12, 0], [ADR, 0]);
});

registerAll(backends, 'float32 gradients (reverse and forward) agree with the float64 gradients at the same points (CPU: to 1e-6)', async (B) => {
  const F32: BackendCase = { ...B, dtype: 'float32' };
  await fc.assert(
    fc.asyncProperty(shapeArb, seedArb, async (shape, seed) => {
      // CPU: float32 kernels vs float64 ones on the CPU, 1e-6 (float32 rounding of intermediate
      // values, e.g. 1 − tanh² near |tanh| = 1, is absolute, ~1e-7); WebGPU: vs the CPU's float64
      // gradients at the same (float32) points, 64 ulps relative and absolute
      const cpu: Tol = [1e-6, 1e-6];
      for (const op of UNARY) {
        const h32 = hostData(F32, shape, seed, op.dom);
        const f = (z: bt.Tensor) => bt.sum(op.fn(z));
        const g64 = await bt.withBackend('cpu', () => read(bt.grad(f)(hostTensor(CPU64, h32))));
        const x32 = T(F32, h32.data, shape);
        const g32 = bt.grad(f)(x32);
        assert.is(g32.dtype, 'float32', op.name);
        await close(B, g32, g64, `${op.name} float32 grad`, cpu, VAL32);
        const [, t32] = bt.jvp(op.fn, [x32], [bt.onesLike(x32)]);
        assert.is((t32 as bt.Tensor).dtype, 'float32', op.name);
        await close(B, t32 as bt.Tensor, g64, `${op.name} float32 jvp`, cpu, VAL32);
      }
    }),
    fcFor(B, { numRuns: 5 }),
  );
});

registerAll(backends, 'relu at ±Infinity and negatives: 0 (not NaN or −0) below zero; gradient 0 there, 1 above', async (B) => {
  const x = T(B, [-Infinity, -1, 0, 2, Infinity], [5]);
  const y = await read(bt.relu(x));
  assert.equal(y, [0, 0, 0, 2, Infinity]);
  assert.ok(!Object.is(y[1], -0), 'relu(-1) is +0');
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(bt.relu(z)))(x), [0, 0, 0, 1, 1], 'relu grad', EXACT, EXACT);
  const [, t] = bt.jvp(bt.relu, [x], [bt.onesLike(x)]);
  await close(B, t as bt.Tensor, [0, 0, 0, 1, 1], 'relu jvp', EXACT, EXACT);
  const xi = bt.tensor([-3, 4], { dtype: 'int32' });
  assert.is(bt.relu(xi).dtype, 'int32');
  assert.equal(await read(bt.relu(xi)), [0, 4]);
});

test.run();
