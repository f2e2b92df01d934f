/**
 * Property tests of the reductions, scans, softmaxes and contractions (matmul, outer): forward
 * values against plain-JS references, and reverse + forward mode against central finite
 * differences on random shapes (rank 0-3, dims 1-4), random axis sets and keepdims.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * tolerances and the float64 FD check of ../helpers.ts exactly as before (values 1e-12 / 1e-14,
 * gradients rtol 1e-6 with h 1e-6), and `name [webgpu]` in float32 with the harness's float32
 * FD check and, for values, 64 float32 ulps (the harness's adRtol) relative and absolute, plus,
 * where a reduction cancels, 64 ulps of the magnitude it sums (Σ|v|, Σv², |max| …): float32
 * rounding is relative to that, not to the (possibly small) result. max/min/argmax/argmin are
 * exact on both. Host inputs are rounded to the backend's dtype before the reference is computed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as bt from '../../src/index.js';
import {
  assertCloseArr, backendsUnderTest, checkDirectional, read, registerAll, scalar, T, toDtype, WEBGPU, type BackendCase,
  hostData, hostTensor,
} from '../backend-harness.js';
import {
  assertClose as assertClose64, checkDirectional as checkDirectional64, hostAlongAxis, hostBroadcastShapes, hostReduce, ravelBroadcastIndex, rng,
  shapeSize, unravelIndex, type HostArray,
} from '../helpers.js';

const backends = await backendsUnderTest('ops-reduce');

const FC = { seed: 42, numRuns: 20, includeErrorInReport: true };
/** WebGPU runs as many cases as the CPU (lower only if the file's runtime demands it). */
const GPU_RUNS = 20;
const fcFor = (B: BackendCase) => (B.name === 'cpu' ? FC : { ...FC, numRuns: GPU_RUNS });
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
 * WebGPU the float32 tolerance plus, per entry, ADR × `mag` (the magnitude of what was summed).
 * Identical entries (±Infinity) and NaN where NaN is expected pass on both, as helpers.assertClose does.
 */
async function close(B: BackendCase, got: bt.Tensor | number[] | number, want: number[] | number, what: string, cpu: Tol, gpu: Tol, mag?: number[]): Promise<void> {
  const flat = async (x: bt.Tensor | number[] | number) => (typeof x === 'number' ? [x] : Array.isArray(x) ? x : await read(x));
  const g = await flat(got);
  const w = await flat(want);
  if (B.name === 'cpu') return assertClose64(g, w, cpu[0], cpu[1], what);
  const same = g.map((v, i) => v === w[i] || (Number.isNaN(v) && Number.isNaN(w[i]!)));
  assertCloseArr(g.map((v, i) => (same[i] ? 0 : v)), w.map((v, i) => (same[i] ? 0 : v)), gpu[0], gpu[1], what, mag?.map((m) => ADR * m));
}

/**
 * Reverse + forward mode vs central differences: float64 (helpers.ts, unchanged) on CPU, the
 * harness's float32 check on WebGPU (with FD step `step32` if given).
 */
async function dir(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, seed: number, what: string, step32?: number): Promise<void> {
  assert.is(x.backend, B.name, `${what}: input on ${B.name}`);
  if (B.name === 'cpu') checkDirectional64(f, x, seed, GRAD_RTOL, what);
  else await checkDirectional(step32 ? { ...B, fdStep: step32 } : B, f, x, seed, what);
}

/**
 * float32 FD step for max/min on distinctData: entries are ≥ 0.25 apart but |x|∞ reaches ~9.7
 * (64 entries 0.3 apart), so the harness's step 1e-2·|x|∞ ≈ 0.1 times tangent differences of up to
 * ~8 could swap the extreme entry. 2e-3 keeps every perturbed pair ordered (≤ 0.16 < 0.25); FD
 * of these piecewise-linear functions has no truncation error, and the harness's rounding-noise
 * term (∝ 1/h) grows 5×.
 */
const KINK_STEP = 2e-3;

// ---- generators -----------------------------------------------------------------------------

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });

/** A shape with a random axis selection: undefined (all), one axis or a list, each possibly negative. */
const reduceCaseArb = fc
  .record({
    shape: shapeArb,
    pick: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    negate: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    mode: fc.constantFrom('all', 'single', 'list'),
    keepdims: fc.boolean(),
    seed: seedArb,
  })
  .map(({ shape, pick, negate, mode, keepdims, seed }) => {
    const r = shape.length;
    let axes = Array.from({ length: r }, (_, i) => i).filter((i) => pick[i]);
    if (mode === 'single' && r > 0) axes = [axes[0] ?? r - 1];
    const axisArg = mode === 'all' || r === 0 ? undefined : mode === 'single' ? (negate[0] ? axes[0]! - r : axes[0]!) : axes.map((a, i) => (negate[i] ? a - r : a));
    const resolved = axisArg === undefined ? Array.from({ length: r }, (_, i) => i) : axes;
    return { shape, axisArg, axes: resolved, keepdims, seed };
  });

/** A shape of rank ≥ 1 and one axis of it (possibly given as negative). */
const axisCaseArb = fc
  .record({ shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), ax: fc.nat(), neg: fc.boolean(), rev: fc.boolean(), seed: seedArb })
  .map(({ shape, ax, neg, rev, seed }) => {
    const axis = ax % shape.length;
    return { shape, axis, axisArg: neg ? axis - shape.length : axis, reverse: rev, seed };
  });



/** Distinct values (a random permutation of a 0.3-spaced grid plus jitter < 0.05): max/min never tie or swap under FD. */
function distinctData(B: BackendCase, shape: number[], seed: number): HostArray {
  const n = shapeSize(shape);
  const r = rng(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return { data: perm.map((p) => toDtype(B, 0.3 * (p - n / 2) + 0.05 * r())), shape };
}

const sumRef = (v: number[]) => v.reduce((a, b) => a + b, 0);
const lseRef = (v: number[]) => {
  const m = Math.max(...v);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(sumRef(v.map((x) => Math.exp(x - m))));
};

// ---- reductions --------------------------------------------------------------------------------

interface Reduction {
  name: string;
  fn: (x: bt.Tensor, o: bt.AxisOptions) => bt.Tensor;
  ref: (v: number[]) => number;
  distinct?: boolean;
  /** float32: the magnitude float32 rounding is relative to (none: exact, max/min) */
  mag?: (v: number[]) => number;
}

const sumAbs = (v: number[]) => sumRef(v.map(Math.abs));
const maxAbs = (v: number[]) => Math.max(0, ...v.map(Math.abs));

const REDUCTIONS: Reduction[] = [
  { name: 'sum', fn: bt.sum, ref: sumRef, mag: sumAbs },
  { name: 'mean', fn: bt.mean, ref: (v) => sumRef(v) / v.length, mag: (v) => sumAbs(v) / v.length },
  { name: 'max', fn: bt.max, ref: (v) => Math.max(...v), distinct: true },
  { name: 'min', fn: bt.min, ref: (v) => Math.min(...v), distinct: true },
  // m + log Σ exp(v − m): rounding of the shift m and of the log
  { name: 'logsumexp', fn: bt.logsumexp, ref: lseRef, mag: (v) => maxAbs(v) + Math.abs(lseRef(v) - Math.max(...v)) },
  {
    name: 'variance',
    fn: (x, o) => bt.variance(x, o),
    ref: (v) => {
      const m = sumRef(v) / v.length;
      return sumRef(v.map((x) => (x - m) ** 2)) / v.length;
    },
    // the deviations v − mean are rounded relative to |v|: Σv²/n
    mag: (v) => sumRef(v.map((x) => x * x)) / v.length,
  },
  {
    name: 'variance(ddof=1)',
    fn: (x, o) => bt.variance(x.mul(1), { ...o, ddof: 1 }),
    ref: (v) => {
      const m = sumRef(v) / v.length;
      return v.length > 1 ? sumRef(v.map((x) => (x - m) ** 2)) / (v.length - 1) : NaN;
    },
    mag: (v) => sumRef(v.map((x) => x * x)) / Math.max(1, v.length - 1),
  },
];

for (const op of REDUCTIONS) {
  registerAll(backends, `${op.name}: values over random axes/keepdims match the host reference; JVP/VJP match finite differences`, async (B) => {
    await fc.assert(
      fc.asyncProperty(reduceCaseArb, async ({ shape, axisArg, axes, keepdims, seed }) => {
        const h = op.distinct ? distinctData(B, shape, seed) : hostData(B, shape, seed);
        const x = hostTensor(B, h);
        const opts: bt.AxisOptions = { axis: axisArg, keepdims };
        const y = op.fn(x, opts);
        const ref = hostReduce(h, axes, keepdims, op.ref);
        const what = `${op.name} ${JSON.stringify(shape)} axis=${JSON.stringify(axisArg)} keepdims=${keepdims}`;
        assert.equal([...y.shape], ref.shape, `${what} shape`);
        assert.is(y.dtype, B.dtype, `${what} dtype`);
        const mag = op.mag && hostReduce(h, axes, keepdims, op.mag).data;
        await close(B, y, ref.data, `${what} value`, VAL64, op.mag ? VAL32 : EXACT, mag);
        if (ref.data.some((v) => Number.isNaN(v))) return; // variance with ddof = 1 over one element
        await dir(B, (z) => op.fn(z, opts), x, seed, what, op.distinct ? KINK_STEP : undefined);
      }),
      fcFor(B),
    );
  });
}

registerAll(backends, 'max/min split the gradient evenly among tied entries', async (B) => {
  const x = T(B, [3, 1, 3, 0, 0, -1], [2, 3]);
  const gmax = bt.grad((z: bt.Tensor) => bt.sum(bt.max(z, { axis: 1 })))(x);
  await close(B, gmax, [0.5, 0, 0.5, 0.5, 0.5, 0], 'max ties', EXACT, EXACT);
  const gmin = bt.grad((z: bt.Tensor) => bt.sum(bt.min(z, { axis: 0 })))(x);
  await close(B, gmin, [0, 0, 0, 1, 1, 1], 'min', EXACT, EXACT);
  const gall = bt.grad((z: bt.Tensor) => bt.max(z))(x);
  await close(B, gall, [0.5, 0, 0.5, 0, 0, 0], 'max over all', EXACT, EXACT);
  const [, t] = bt.jvp((z: bt.Tensor) => bt.max(z, { axis: 1 }), [x], [T(B, [1, 2, 3, 4, 5, 6], [2, 3])]);
  await close(B, t as bt.Tensor, [2, 4.5], 'max ties jvp (mean of tied tangents)', EXACT, EXACT);
});

registerAll(backends, 'logsumexp: −Infinity rows give −Infinity (no NaN) and finite gradients; large inputs do not overflow', async (B) => {
  const rows = [[-Infinity, -Infinity, -Infinity], [0, 1, -Infinity], [1000, 1000, 999], [-1000, -1001, -1000]];
  const x = T(B, rows.flat(), [4, 3]);
  const y = bt.logsumexp(x, { axis: 1 });
  // float32: the shift m (|m| ≤ 1001) is rounded relative to itself
  const rowMag = rows.map((r) => maxAbs(r.filter(Number.isFinite)) + 1);
  await close(B, y, rows.map(lseRef), 'logsumexp rows', [VAL_RTOL, 0], [ADR, 0], rowMag);
  assert.is((await read(y))[0], -Infinity);
  const yk = bt.logsumexp(x, { axis: -1, keepdims: true });
  assert.equal([...yk.shape], [4, 1]);
  await close(B, yk, rows.map(lseRef), 'keepdims', [VAL_RTOL, 0], [ADR, 0], rowMag);
  // gradient: softmax of each finite row, finite (zero) on the −∞ row and entries
  const f = (z: bt.Tensor) => bt.sum(bt.logsumexp(z, { axis: 1 }).slice([1]));
  const g = await read(bt.grad(f)(x));
  assert.ok(g.every(Number.isFinite), `logsumexp gradient not finite: ${g}`);
  const soft = (v: number[]) => v.map((e) => Math.exp(e - lseRef(v)));
  await close(B, g, [0, 0, 0, ...soft(rows[1]!), ...soft(rows[2]!), ...soft(rows[3]!)], 'logsumexp gradient', [1e-12, 1e-15], VAL32);
  // with the −∞ row's output included the gradient is still finite
  const g2 = await read(bt.grad((z: bt.Tensor) => bt.sum(bt.logsumexp(z, { axis: 1 }).sigmoid()))(x));
  assert.ok(g2.every(Number.isFinite), `gradient through the −∞ row not finite: ${g2}`);
  const [, jt] = bt.jvp((z: bt.Tensor) => bt.logsumexp(z, { axis: 1 }), [x], [bt.onesLike(x)]);
  await close(B, jt as bt.Tensor, [0, 1, 1, 1], 'jvp (shift invariance; 0 on the −∞ row)', [1e-12, 0], [ADR, 0]);
  // all of one large tensor
  const big = T(B, [1000, 1000], [2]);
  await close(B, bt.logsumexp(big), 1000 + Math.LN2, 'logsumexp(1000, 1000)', [VAL_RTOL, 0], [ADR, 0]);
  await close(B, bt.grad((z: bt.Tensor) => bt.logsumexp(z))(big), [0.5, 0.5], 'gradient at 1000', [VAL_RTOL, 0], [ADR, 0]);
  await close(B, bt.logsumexp(T(B, [-Infinity], [1])), -Infinity, 'single −∞', EXACT, EXACT);
  await close(B, bt.logsumexp(T(B, [Infinity, 0], [2])), Infinity, '+∞ entry', EXACT, EXACT);
});

registerAll(backends, 'logsumexp: second derivatives (Hessian-vector products) match finite differences', async (B) => {
  const x = hostTensor(B, hostData(B, [3, 4], 5));
  const w = T(B, [1, -2, 0.5], [3]);
  const g = (z: bt.Tensor) => bt.grad((t: bt.Tensor) => bt.sum(bt.logsumexp(t, { axis: 1 }).mul(w)))(z);
  await dir(B, g, x, 7, 'logsumexp grad');
});

// ---- scans and softmaxes ---------------------------------------------------------------------

const cumsumRef = (reverse: boolean) => (v: number[]) => {
  const w = reverse ? [...v].reverse() : v;
  let s = 0;
  const out = w.map((e) => (s += e));
  return reverse ? out.reverse() : out;
};
const logcumsumexpRef = (reverse: boolean) => (v: number[]) => {
  const w = reverse ? [...v].reverse() : v;
  const out = w.map((_, i) => lseRef(w.slice(0, i + 1)));
  return reverse ? out.reverse() : out;
};
const softmaxRef = (v: number[]) => v.map((e) => Math.exp(e - lseRef(v)));
const logSoftmaxRef = (v: number[]) => v.map((e) => e - lseRef(v));

interface Scan {
  name: string;
  fn: (x: bt.Tensor, axis: number, reverse: boolean) => bt.Tensor;
  ref: (reverse: boolean) => (v: number[]) => number[];
  /** float32: per output, the magnitude float32 rounding is relative to */
  mag: (reverse: boolean) => (v: number[]) => number[];
}

const SCANS: Scan[] = [
  { name: 'cumsum', fn: (x, axis, reverse) => bt.cumsum(x, { axis, reverse }), ref: cumsumRef, mag: (r) => (v) => cumsumRef(r)(v.map(Math.abs)) },
  // m + log Σ exp(v − m) with m the axis max
  {
    name: 'logcumsumexp',
    fn: (x, axis, reverse) => bt.logcumsumexp(x, { axis, reverse }),
    ref: logcumsumexpRef,
    mag: (r) => (v) => logcumsumexpRef(r)(v).map((y) => maxAbs(v) + Math.abs(y - Math.max(...v))),
  },
  // exp(v − lse): relative error of the exponent's argument, |v| + |lse|
  { name: 'softmax', fn: (x, axis) => bt.softmax(x, { axis }), ref: () => softmaxRef, mag: () => (v) => softmaxRef(v).map((s, i) => s * (Math.abs(v[i]!) + Math.abs(lseRef(v)))) },
  { name: 'logSoftmax', fn: (x, axis) => bt.logSoftmax(x, { axis }), ref: () => logSoftmaxRef, mag: () => (v) => v.map((e) => Math.abs(e) + Math.abs(lseRef(v))) },
];

for (const op of SCANS) {
  registerAll(backends, `${op.name}: values along a random axis (both directions) match the host reference; JVP/VJP match finite differences`, async (B) => {
    await fc.assert(
      fc.asyncProperty(axisCaseArb, async ({ shape, axis, axisArg, reverse, seed }) => {
        const h = hostData(B, shape, seed, (z) => 2 * z);
        const x = hostTensor(B, h);
        const y = op.fn(x, axisArg, reverse);
        const what = `${op.name} ${JSON.stringify(shape)} axis=${axisArg} reverse=${reverse}`;
        assert.equal([...y.shape], shape, `${what} shape`);
        assert.is(y.dtype, B.dtype, `${what} dtype`);
        const mag = hostAlongAxis(h, axis, op.mag(reverse)).data;
        await close(B, y, hostAlongAxis(h, axis, op.ref(reverse)).data, `${what} value`, VAL64, VAL32, mag);
        await dir(B, (z) => op.fn(z, axisArg, reverse), x, seed, what);
      }),
      fcFor(B),
    );
  });
}

registerAll(backends, 'scans and softmaxes are stable for large inputs and −Infinity entries', async (B) => {
  const x = T(B, [1000, 1001, 999, -Infinity, 0, 1], [2, 3]);
  // float32: exponents and shifts of size ~1000 are rounded relative to themselves
  const m3 = [1001, 1001, 1001];
  await close(B, bt.softmax(x, { axis: 1 }), [...softmaxRef([1000, 1001, 999]), 0, ...softmaxRef([0, 1])], 'softmax', [1e-12, 1e-300], [ADR, 0], [...m3, 1, 1, 1]);
  await close(B, bt.logSoftmax(x.slice([0], [1])), logSoftmaxRef([1000, 1001, 999]), 'logSoftmax large', [1e-12, 0], [ADR, 0], m3);
  const lc = bt.logcumsumexp(x, { axis: 1 });
  await close(B, lc, [...logcumsumexpRef(false)([1000, 1001, 999]), -Infinity, 0, lseRef([0, 1])], 'logcumsumexp', [1e-12, 0], [ADR, 0], [...m3, 1, 1, 1]);
  // a leading −∞ (a masked prefix) must not poison the gradient of the later, finite outputs
  const g = await read(bt.grad((z: bt.Tensor) => bt.sum(bt.logcumsumexp(z, { axis: 1 }).slice([0, 1])))(x));
  assert.ok(g.every(Number.isFinite), `logcumsumexp gradient not finite: ${g}`);
  const gs = await read(bt.grad((z: bt.Tensor) => bt.sum(bt.softmax(z, { axis: 1 }).mul(T(B, [1, 2, 3, 4, 5, 6], [2, 3]))))(x));
  assert.ok(gs.every(Number.isFinite), `softmax gradient not finite: ${gs}`);
});

/**
 * The random shapes above have at most 64 entries, so on WebGPU every reduction there takes the
 * one-thread-per-output path; these cover the workgroup-tree path (more than 64 entries per
 * output), reduced axes that merge into several strided runs, long scans, ties (the first index
 * wins) and NaN (it propagates through max/min and is the extreme for argmax/argmin), on both backends.
 */
registerAll(backends, 'long reductions (over 64 entries per output), strided axis sets, ties and NaN: values and gradients', async (B) => {
  const cases: [number[], number[]][] = [
    [[3, 200], [1]],
    [[130, 3], [0]],
    [[5, 70, 2], [1]],
    [[5, 70, 2], [0, 1]],
    [[70, 3, 2], [0, 2]],
    [[4, 3, 40], [0, 2]],
    [[257], [0]],
  ];
  for (const [ci, [shape, axes]] of cases.entries()) {
    const h = hostData(B, shape, 900 + ci);
    const x = hostTensor(B, h);
    for (const keepdims of [false, true]) {
      const opts: bt.AxisOptions = { axis: axes, keepdims };
      for (const op of REDUCTIONS) {
        const what = `${op.name} ${JSON.stringify(shape)} axis=${JSON.stringify(axes)} keepdims=${keepdims}`;
        const y = op.fn(x, opts);
        const ref = hostReduce(h, axes, keepdims, op.ref);
        assert.equal([...y.shape], ref.shape, `${what} shape`);
        const mag = op.mag && hostReduce(h, axes, keepdims, op.mag).data;
        await close(B, y, ref.data, `${what} value`, VAL64, op.mag ? VAL32 : EXACT, mag);
        if (keepdims) continue;
        if (op.distinct) {
          // d Σ extreme / dx: 1 at each group's extreme (ties split evenly), 0 elsewhere; exact
          const count = hostReduce(h, axes, true, (v) => v.filter((e) => e === op.ref(v)).length);
          const ext = hostReduce(h, axes, true, op.ref);
          const want = h.data.map((v, k) => {
            const g = ravelBroadcastIndex(unravelIndex(k, shape).map((c, d) => (axes.includes(d) ? 0 : c)), ext.shape);
            return v === ext.data[g] ? 1 / count.data[g]! : 0;
          });
          await close(B, bt.grad((z: bt.Tensor) => bt.sum(op.fn(z, opts)))(x), want, `${what} gradient`, EXACT, EXACT);
        } else await dir(B, (z) => op.fn(z, opts), x, 950 + ci, what);
      }
    }
  }
  // argmax/argmin along a long axis, with ties (the first index wins) and NaN (the first NaN wins)
  for (const [shape, axis] of [[[3, 200], 1], [[130, 3], 0], [[2, 300, 2], 1]] as [number[], number][]) {
    const h = hostData(B, shape, 990 + axis);
    const [outer, k, inner] = [shapeSize(shape.slice(0, axis)), shape[axis]!, shapeSize(shape.slice(axis + 1))];
    const at = (o: number, j: number, i: number) => (o * k + j) * inner + i;
    // fiber 0: a tied max and a tied min late in the axis; fiber 1 (if any): a NaN after a tie
    h.data[at(0, k - 70, 0)] = h.data[at(0, k - 3, 0)] = 10;
    h.data[at(0, k - 69, 0)] = h.data[at(0, k - 2, 0)] = -10;
    const fib1 = outer > 1 ? [1, 0] : [0, 1];
    if (inner > 1 || outer > 1) {
      h.data[at(fib1[0]!, 5, fib1[1]!)] = h.data[at(fib1[0]!, 90, fib1[1]!)] = 10;
      h.data[at(fib1[0]!, k - 1, fib1[1]!)] = NaN;
      h.data[at(fib1[0]!, k - 5, fib1[1]!)] = NaN;
    }
    const x = hostTensor(B, h);
    const firstOf = (pred: (v: number, all: number[]) => boolean) => (v: number[]) => {
      const nan = v.findIndex((e) => Number.isNaN(e));
      return nan >= 0 ? nan : v.findIndex((e) => pred(e, v));
    };
    for (const [name, fn, pick, red] of [
      ['argmax', bt.argmax, firstOf((e, v) => e === Math.max(...v)), bt.max],
      ['argmin', bt.argmin, firstOf((e, v) => e === Math.min(...v)), bt.min],
    ] as const) {
      const what = `${name} ${JSON.stringify(shape)} axis=${axis}`;
      assert.equal(await read(fn(x, { axis })), hostReduce(h, [axis], false, pick).data, what);
      // max/min: NaN propagates, as Math.max/min
      await close(B, red(x, { axis }), hostReduce(h, [axis], false, (v) => (name === 'argmax' ? Math.max(...v) : Math.min(...v))).data, `${what} value`, EXACT, EXACT);
    }
  }
  // long scans
  for (const [shape, axis] of [[[2, 150], 1], [[200, 2], 0]] as [number[], number][]) {
    const h = hostData(B, shape, 995 + axis);
    const x = hostTensor(B, h);
    for (const op of SCANS) {
      for (const reverse of [false, true]) {
        const what = `${op.name} ${JSON.stringify(shape)} axis=${axis} reverse=${reverse}`;
        const mag = hostAlongAxis(h, axis, op.mag(reverse)).data;
        await close(B, op.fn(x, axis, reverse), hostAlongAxis(h, axis, op.ref(reverse)).data, `${what} value`, VAL64, VAL32, mag);
        await dir(B, (z) => op.fn(z, axis, reverse), x, 996 + axis, what);
      }
    }
  }
});

// ---- argmax / argmin ---------------------------------------------------------------------------

registerAll(backends, 'argmax/argmin: int32 indices matching the host; gradients flow through a gather by them', async (B) => {
  await fc.assert(
    fc.asyncProperty(axisCaseArb, async ({ shape, axis, axisArg, seed }) => {
      const h = distinctData(B, shape, seed);
      const x = hostTensor(B, h);
      for (const [name, fn, pick] of [
        ['argmax', bt.argmax, (v: number[]) => v.indexOf(Math.max(...v))],
        ['argmin', bt.argmin, (v: number[]) => v.indexOf(Math.min(...v))],
      ] as const) {
        const i = fn(x, { axis: axisArg });
        assert.is(i.dtype, 'int32', name);
        const ref = hostReduce(h, [axis], false, pick);
        assert.equal([...i.shape], ref.shape, `${name} shape`);
        assert.equal(await read(i), ref.data, `${name} ${JSON.stringify(shape)} axis ${axisArg}`);
        const ik = fn(x, { axis: axisArg, keepdims: true });
        assert.equal([...ik.shape], hostReduce(h, [axis], true, pick).shape, `${name} keepdims shape`);
        const flat = fn(x);
        assert.equal([...flat.shape], []);
        assert.is(await scalar(flat), pick(h.data), `${name} flat`);
        // grad through take_along_axis(x, argmax): one-hot at the extreme entries
        const f = (z: bt.Tensor) => bt.sum(bt.takeAlongAxis(z, fn(z, { axis: axisArg, keepdims: true }), axisArg));
        const g = bt.grad(f)(x);
        const hot = hostReduce(h, [axis], true, pick);
        const want = h.data.map((_, k) => {
          const idx = unravelIndex(k, shape);
          return hot.data[ravelBroadcastIndex(idx.map((c, d) => (d === axis ? 0 : c)), hot.shape)] === idx[axis] ? 1 : 0;
        });
        await close(B, g, want, `${name} one-hot gradient`, EXACT, EXACT);
        const gz = bt.grad((z: bt.Tensor) => bt.sum(bt.cast(fn(z, { axis: axisArg }), B.dtype)))(x);
        await close(B, gz, new Array(h.data.length).fill(0), `${name} zero gradient`, EXACT, EXACT);
      }
    }),
    fcFor(B),
  );
});

// ---- matmul and outer ---------------------------------------------------------------------------

/** Host batched matmul of a [...ba, m, k] and b [...bb, k, n] (batch dims broadcast). */
function hostMatmul(a: HostArray, b: HostArray): HostArray {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  const batch = hostBroadcastShapes(ba, bb);
  const nb = shapeSize(batch);
  const data: number[] = [];
  for (let t = 0; t < nb; t++) {
    const idx = unravelIndex(t, batch);
    const oa = ravelBroadcastIndex(idx, ba) * m * k;
    const ob = ravelBroadcastIndex(idx, bb) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = 0; l < k; l++) s += a.data[oa + i * k + l]! * b.data[ob + l * n + j]!;
        data.push(s);
      }
    }
  }
  return { data, shape: [...batch, m, n] };
}

function swapLast(h: HostArray): HostArray {
  const r = h.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  const shape = perm.map((p) => h.shape[p]!);
  const data = new Array<number>(h.data.length);
  for (let i = 0; i < data.length; i++) {
    const idx = unravelIndex(i, shape);
    const src = perm.map(() => 0);
    perm.forEach((p, q) => (src[p] = idx[q]!));
    data[i] = h.data[ravelBroadcastIndex(src, h.shape)]!;
  }
  return { data, shape };
}

const matmulArb = fc
  .record({
    base: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
    onesA: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    onesB: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    drop: fc.integer({ min: 0, max: 2 }),
    swap: fc.boolean(),
    m: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 4 }),
    n: fc.integer({ min: 1, max: 4 }),
    transA: fc.boolean(),
    transB: fc.boolean(),
    seed: seedArb,
  })
  .map(({ base, onesA, onesB, drop, swap, ...rest }) => {
    let ba = base.map((d, i) => (onesA[i] ? 1 : d));
    let bb = base.map((d, i) => (onesB[i] ? 1 : d)).slice(Math.min(drop, base.length));
    if (swap) [ba, bb] = [bb, ba];
    return { ba, bb, ...rest };
  });

/** |A|·|B|: the magnitude float32 rounding of a product is relative to. */
const absH = (h: HostArray): HostArray => ({ data: h.data.map(Math.abs), shape: h.shape });

registerAll(backends, 'matmul: batched with broadcast batch dims, all four transposition combos via mT; values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(matmulArb, async ({ ba, bb, m, k, n, transA, transB, seed }) => {
      // stored operands; op(A) = A or A.mT
      const ha = hostData(B, transA ? [...ba, k, m] : [...ba, m, k], seed);
      const hb = hostData(B, transB ? [...bb, n, k] : [...bb, k, n], seed + 1);
      const opA = (t: bt.Tensor) => (transA ? t.mT : t);
      const opB = (t: bt.Tensor) => (transB ? t.mT : t);
      const f = (x: bt.Tensor, y: bt.Tensor) => bt.matmul(opA(x), opB(y));
      const a = hostTensor(B, ha);
      const b = hostTensor(B, hb);
      const ra = transA ? swapLast(ha) : ha;
      const rb = transB ? swapLast(hb) : hb;
      const ref = hostMatmul(ra, rb);
      const mag = hostMatmul(absH(ra), absH(rb)).data;
      const y = f(a, b);
      const what = `matmul ${JSON.stringify(ha.shape)}${transA ? 'ᵀ' : ''} @ ${JSON.stringify(hb.shape)}${transB ? 'ᵀ' : ''}`;
      assert.equal([...y.shape], ref.shape, `${what} shape`);
      assert.is(y.dtype, B.dtype, `${what} dtype`);
      await close(B, y, ref.data, `${what} value`, VAL64, VAL32, mag);
      await dir(B, (x) => f(x, b), a, seed, `${what} d/da`);
      await dir(B, (x) => f(a, x), b, seed + 1, `${what} d/db`);
      // method form agrees
      await close(B, opA(a).matmul(opB(b)), ref.data, `${what} method`, VAL64, VAL32, mag);
    }),
    fcFor(B),
  );
});

registerAll(backends, 'matmul with 1-D operands (vector·matrix, matrix·vector, vector·vector, batch·vector) and outer', async (B) => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({ m: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), bt0: fc.integer({ min: 1, max: 3 }), seed: seedArb }),
      async ({ m, k, bt0, seed }) => {
        const hv = hostData(B, [k], seed);
        const hw = hostData(B, [k], seed + 1);
        const hM = hostData(B, [m, k], seed + 2);
        const hB = hostData(B, [bt0, k, m], seed + 3);
        const [v, w, M, Bt] = [hv, hw, hM, hB].map((h) => hostTensor(B, h)) as [bt.Tensor, bt.Tensor, bt.Tensor, bt.Tensor];
        const col = (h: HostArray): HostArray => ({ data: h.data, shape: [h.data.length, 1] });
        const row = (h: HostArray): HostArray => ({ data: h.data, shape: [1, h.data.length] });
        // reference and |·|-magnitude of each product
        const mm = (x: HostArray, y: HostArray): [number[], number[]] => [hostMatmul(x, y).data, hostMatmul(absH(x), absH(y)).data];
        const cases: [string, () => bt.Tensor, number[], [number[], number[]], (x: bt.Tensor) => bt.Tensor, bt.Tensor][] = [
          ['M@v', () => bt.matmul(M, v), [m], mm(hM, col(hv)), (x) => bt.matmul(x, v), M],
          ['M@v (d/dv)', () => bt.matmul(M, v), [m], mm(hM, col(hv)), (x) => bt.matmul(M, x), v],
          ['v@Mᵀ', () => bt.matmul(v, M.mT), [m], mm(row(hv), swapLast(hM)), (x) => bt.matmul(x, M.mT), v],
          ['v@w', () => bt.matmul(v, w), [], mm(row(hv), col(hw)), (x) => bt.matmul(v, x), w],
          ['v@v', () => bt.matmul(v, v), [], mm(row(hv), col(hv)), (x) => bt.matmul(x, x), v],
          ['B@… v·B', () => bt.matmul(v, Bt), [bt0, m], mm(row(hv), hB), (x) => bt.matmul(x, Bt), v],
          ['Bᵀ@v', () => bt.matmul(Bt.mT, v), [bt0, m], mm(swapLast(hB), col(hv)), (x) => bt.matmul(Bt.mT, x), v],
          ['Bᵀ@v (d/dB)', () => bt.matmul(Bt.mT, v), [bt0, m], mm(swapLast(hB), col(hv)), (x) => bt.matmul(x.mT, v), Bt],
          ['outer', () => bt.outer(v, M), [k, m * k], mm(col(hv), row(hM)), (x) => bt.outer(x, M), v],
          ['outer (d/db)', () => bt.outer(v, M), [k, m * k], mm(col(hv), row(hM)), (x) => bt.outer(v, x), M],
        ];
        for (const [name, run, shape, [ref, mag], f, x] of cases) {
          const y = run();
          assert.equal([...y.shape], shape, `${name} shape`);
          await close(B, y, ref, `${name} value`, VAL64, VAL32, mag);
          await dir(B, f, x, seed, name);
        }
      },
    ),
    fcFor(B),
  );
});

registerAll(backends, 'matmul: second derivatives match finite differences', async (B) => {
  const a = hostTensor(B, hostData(B, [2, 3, 4], 1));
  const b = hostTensor(B, hostData(B, [4, 2], 2));
  const ga = (x: bt.Tensor, y: bt.Tensor) => bt.grad((t: bt.Tensor) => bt.sum(bt.matmul(t, y).tanh()))(x);
  await dir(B, (x) => ga(x, b), a, 3, 'd²/da²');
  await dir(B, (y) => ga(a, y), b, 4, 'd²/da db');
});

registerAll(backends, 'matmul float32 values agree with the float64 reference (CPU: to 1e-6)', async (B) => {
  const F32: BackendCase = { ...B, dtype: 'float32' };
  const ha = hostData(F32, [3, 5, 4], 8);
  const hb = hostData(F32, [4, 6], 9);
  const y = bt.matmul(hostTensor(F32, ha), hostTensor(F32, hb));
  assert.is(y.dtype, 'float32');
  // CPU: its float32 matmul (float64 sums rounded once) to 1e-6; WebGPU: native float32, 64 ulps of |A|·|B|
  await close(B, y, hostMatmul(ha, hb).data, 'matmul float32', [1e-6, 1e-6], VAL32, hostMatmul(absH(ha), absH(hb)).data);
});

test.run();
