/**
 * Property tests of the indexing ops (take scatterAdd takeAlongAxis sort argsort diagonal diag triu
 * tril): values against host index arithmetic, and reverse + forward mode against central finite
 * differences on random shapes, with repeated and negative indices.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * float64 FD check of ../helpers.ts (rtol 1e-6, h 1e-6, as before), and `name [webgpu]` in float32
 * with the harness's float32 FD check. Gathers, sorts and masks move values without arithmetic, so
 * their forward values are compared EXACTLY on both backends (host inputs are rounded to the
 * backend dtype first); only scatterAdd's sums round (see its tolerance).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as bt from '../../src/index.js';
import { backendsUnderTest, registerAll, assertClose, checkDirectional, read, T, toDtype, hostData, hostTensor, type BackendCase } from '../backend-harness.js';
import { checkDirectional as checkDirectionalF64, hostAlongAxis, ravelBroadcastIndex, rng, shapeSize, unravelIndex, type HostArray } from '../helpers.js';

const backends = await backendsUnderTest('ops-indexing');

/** The same cases on both backends (WebGPU needs no reduction: the whole file takes a few seconds). */
const FC = { seed: 42, numRuns: 20, includeErrorInReport: true };
const GRAD_RTOL = 1e-6;

const shape1Arb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
const idxShapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 2 });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });



/**
 * Reverse + forward mode vs central differences: float64 (helpers.ts, unchanged) on CPU, the
 * harness's float32 check on WebGPU. `fdScale` shrinks the WebGPU step (B.fdStep·fdScale) for a
 * function whose curvature along the direction makes O(h²) truncation at the default step exceed
 * rtol; the harness derives the FD rounding noise from the step actually used.
 */
async function checkDir(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, seed: number, what: string, fdScale = 1): Promise<void> {
  if (B.name === 'cpu') checkDirectionalF64(f, x, seed, GRAD_RTOL, what);
  else await checkDirectional({ ...B, fdStep: B.fdStep * fdScale }, f, x, seed, what);
}

/** Random int32 indices in [-k, k) (negatives count from the end); with n > k repeats are certain. */
function hostIndices(shape: number[], k: number, seed: number): HostArray {
  const r = rng(seed);
  return { data: Array.from({ length: shapeSize(shape) }, () => Math.floor(r() * 2 * k) - k), shape };
}

const intTensor = (h: HostArray) => bt.tensor(Int32Array.from(h.data), { shape: h.shape, dtype: 'int32' });
const wrap = (i: number, k: number) => (i < 0 ? i + k : i);

/** Shape, dtype, backend, and value: exact unless a tolerance is given. */
async function checkValue(B: BackendCase, y: bt.Tensor, ref: HostArray, what: string, rtol = 0, extra?: number[]): Promise<void> {
  assert.equal([...y.shape], ref.shape, `${what} shape`);
  assert.is(y.dtype, B.dtype, `${what} dtype`);
  assert.is(y.backend, B.name, `${what} backend`);
  await assertClose(y, ref.data, rtol, 0, `${what} value`, extra);
}

registerAll(backends, 'take (random axis, multi-dim, repeated and negative indices): values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(shape1Arb, idxShapeArb, fc.nat(), fc.boolean(), seedArb, async (shape, ishape, a0, negAxis, seed) => {
      const axis = a0 % shape.length;
      const k = shape[axis]!;
      const h = hostData(B, shape, seed);
      const hi = hostIndices(ishape, k, seed + 1);
      const x = hostTensor(B, h);
      const idx = intTensor(hi);
      const outShape = [...shape.slice(0, axis), ...ishape, ...shape.slice(axis + 1)];
      const data = Array.from({ length: shapeSize(outShape) }, (_, f) => {
        const o = unravelIndex(f, outShape);
        const ii = o.slice(axis, axis + ishape.length);
        const j = wrap(hi.data[ravelBroadcastIndex(ii, ishape)]!, k);
        return h.data[ravelBroadcastIndex([...o.slice(0, axis), j, ...o.slice(axis + ishape.length)], shape)]!;
      });
      const ax = negAxis ? axis - shape.length : axis;
      const what = `take ${JSON.stringify(shape)} idx ${JSON.stringify(hi.data)} axis ${ax}`;
      await checkValue(B, bt.take(x, idx, ax), { data, shape: outShape }, what);
      await checkValue(B, x.take(idx, ax), { data, shape: outShape }, `${what} method`);
      await checkDir(B, (z) => bt.take(z, idx, ax), x, seed, what);
      // gradient of a sum counts how often each entry was taken (repeats accumulate)
      const count = new Array<number>(k).fill(0);
      for (const i of hi.data) count[wrap(i, k)]!++;
      const g = bt.grad((z: bt.Tensor) => bt.sum(bt.take(z, idx, ax)))(x);
      const want = h.data.map((_, f) => count[unravelIndex(f, shape)[axis]!]!);
      await assertClose(g, want, 0, 0, `${what} counts`);
    }),
    FC,
  );
});

registerAll(backends, 'scatterAdd (repeated and negative indices): values and derivatives w.r.t. operand and updates', async (B) => {
  await fc.assert(
    fc.asyncProperty(shape1Arb, idxShapeArb, fc.nat(), seedArb, async (shape, ishape, a0, seed) => {
      const axis = a0 % shape.length;
      const k = shape[axis]!;
      const h = hostData(B, shape, seed);
      const hi = hostIndices(ishape, k, seed + 1);
      const uShape = [...shape.slice(0, axis), ...ishape, ...shape.slice(axis + 1)];
      const hu = hostData(B, uShape, seed + 2);
      const [x, u] = [hostTensor(B, h), hostTensor(B, hu)];
      const idx = intTensor(hi);
      const data = h.data.slice();
      // per entry: how many terms its sum has and their absolute sum (float32 rounding bound)
      const terms = h.data.map(() => 1);
      const absSum = h.data.map(Math.abs);
      hu.data.forEach((v, f) => {
        const o = unravelIndex(f, uShape);
        const j = wrap(hi.data[ravelBroadcastIndex(o.slice(axis, axis + ishape.length), ishape)]!, k);
        const p = ravelBroadcastIndex([...o.slice(0, axis), j, ...o.slice(axis + ishape.length)], shape);
        data[p]! += v;
        terms[p]!++;
        absSum[p]! += Math.abs(v);
      });
      const what = `scatterAdd ${JSON.stringify(shape)} idx ${JSON.stringify(hi.data)} axis ${axis}`;
      if (B.name === 'cpu') await checkValue(B, bt.scatterAdd(x, idx, u, axis), { data, shape }, what, 1e-12);
      // float32, summed in any order (atomic adds): |err| ≤ γ(n−1)·Σ|terms| ≤ (n−1)·eps·Σ|terms| (eps = 2u)
      else await checkValue(B, bt.scatterAdd(x, idx, u, axis), { data, shape }, what, 0, terms.map((n, i) => (n - 1) * B.eps * absSum[i]!));
      await checkDir(B, (z) => bt.scatterAdd(z, idx, u, axis), x, seed, `${what} d/dx`);
      await checkDir(B, (z) => bt.scatterAdd(x, idx, z, axis), u, seed + 1, `${what} d/dupdates`);
      await checkDir(B, (z) => bt.scatterAdd(z, idx, z.take(idx, axis).mul(2), axis), x, seed + 2, `${what} take∘scatter`);
    }),
    FC,
  );
});

registerAll(backends, 'takeAlongAxis (repeated and negative indices, other-axis lengths kept): values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(shape1Arb, fc.nat(), fc.integer({ min: 1, max: 5 }), seedArb, async (shape, a0, j, seed) => {
      const axis = a0 % shape.length;
      const k = shape[axis]!;
      const h = hostData(B, shape, seed);
      const ishape = shape.map((d, i) => (i === axis ? j : d));
      const hi = hostIndices(ishape, k, seed + 1);
      const x = hostTensor(B, h);
      const idx = intTensor(hi);
      const data = hi.data.map((v, f) => {
        const o = unravelIndex(f, ishape);
        o[axis] = wrap(v, k);
        return h.data[ravelBroadcastIndex(o, shape)]!;
      });
      const what = `takeAlongAxis ${JSON.stringify(shape)} idx ${JSON.stringify(ishape)} axis ${axis}`;
      await checkValue(B, bt.takeAlongAxis(x, idx, axis), { data, shape: ishape }, what);
      await checkValue(B, bt.takeAlongAxis(x, idx, axis - shape.length), { data, shape: ishape }, `${what} negative axis`);
      await checkDir(B, (z) => bt.takeAlongAxis(z, idx, axis), x, seed, what);
    }),
    FC,
  );
});

registerAll(backends, 'sort/argsort (both orders, random axis): values, int32 permutation, gradient flows to the right positions', async (B) => {
  await fc.assert(
    fc.asyncProperty(shape1Arb, fc.nat(), fc.boolean(), seedArb, async (shape, a0, descending, seed) => {
      const axis = a0 % shape.length;
      const h = hostData(B, shape, seed); // continuous: no ties
      const x = hostTensor(B, h);
      const cmp = descending ? (a: number, b: number) => b - a : (a: number, b: number) => a - b;
      const sorted = hostAlongAxis(h, axis, (v) => [...v].sort(cmp));
      const order = hostAlongAxis(h, axis, (v) => v.map((e, i) => [e, i] as const).sort((p, q) => cmp(p[0], q[0])).map((p) => p[1]));
      const what = `sort ${JSON.stringify(shape)} axis ${axis} ${descending ? 'desc' : 'asc'}`;
      await checkValue(B, bt.sort(x, { axis, descending }), sorted, what);
      const perm = bt.argsort(x, { axis, descending });
      assert.is(perm.dtype, 'int32');
      assert.equal(await read(perm), order.data, `${what} argsort`);
      await checkValue(B, x.sort({ axis: axis - shape.length, descending }), sorted, `${what} method, negative axis`);
      await checkDir(B, (z) => bt.sort(z, { axis, descending }), x, seed, what);
      // d/dx Σ w ⊙ sort(x): entry order[j] of each fiber receives w[j]
      const hw = hostData(B, shape, seed + 4);
      const w = hostTensor(B, hw);
      const g = bt.grad((z: bt.Tensor) => bt.sum(bt.mul(bt.sort(z, { axis, descending }), w)))(x);
      const want = new Array<number>(h.data.length).fill(0);
      order.data.forEach((src, f) => {
        const o = unravelIndex(f, shape);
        o[axis] = src;
        want[ravelBroadcastIndex(o, shape)] = hw.data[f]!;
      });
      await assertClose(g, want, 0, 0, `${what} gradient positions`);
      // argsort is non-differentiable: zero gradient, no error
      const gz = bt.grad((z: bt.Tensor) => bt.sum(bt.mul(z, bt.cast(bt.argsort(z, { axis }), B.dtype))))(x);
      const rank = hostAlongAxis(h, axis, (v) => v.map((e, i) => [e, i] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]));
      await assertClose(gz, rank.data, 0, 0, `${what} argsort treated as constant`);
    }),
    FC,
  );
});

registerAll(backends, 'diagonal (offsets -2..2, batch dims), diag, triu, tril (offsets): values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 1 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: -2, max: 2 }),
      seedArb,
      async (batch, n, m, k, seed) => {
        const shape = [...batch, n, m];
        const h = hostData(B, shape, seed);
        const x = hostTensor(B, h);
        const nb = shapeSize(batch);
        const what = `${JSON.stringify(shape)} k=${k}`;
        // diagonal
        const len = Math.max(0, Math.min(n - Math.max(0, -k), m - Math.max(0, k)));
        const dd: number[] = [];
        for (let b = 0; b < nb; b++) for (let i = 0; i < len; i++) dd.push(h.data[b * n * m + (i + Math.max(0, -k)) * m + i + Math.max(0, k)]!);
        await checkValue(B, bt.diagonal(x, k), { data: dd, shape: [...batch, len] }, `diagonal ${what}`);
        if (len > 0) await checkDir(B, (z) => bt.diagonal(z, k), x, seed, `diagonal ${what}`);
        // triu / tril
        const mask = (lower: boolean) => h.data.map((v, f) => {
          const [i, j] = unravelIndex(f, shape).slice(-2) as [number, number];
          return (lower ? j - i <= k : j - i >= k) ? v : 0;
        });
        await checkValue(B, bt.tril(x, k), { data: mask(true), shape }, `tril ${what}`);
        await checkValue(B, bt.triu(x, k), { data: mask(false), shape }, `triu ${what}`);
        await checkDir(B, (z) => bt.tril(z, k), x, seed + 1, `tril ${what}`);
        await checkDir(B, (z) => bt.triu(z, k), x, seed + 2, `triu ${what}`);
        if (k === 0) {
          await checkValue(B, bt.tril(x), { data: mask(true), shape }, `tril default ${what}`);
          await checkValue(B, bt.triu(x), { data: mask(false), shape }, `triu default ${what}`);
        }
        // diag: [..., m] -> [..., m, m]
        const hv = hostData(B, [...batch, m], seed + 3);
        const v = hostTensor(B, hv);
        const dg: number[] = [];
        for (let b = 0; b < nb; b++) for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) dg.push(i === j ? hv.data[b * m + i]! : 0);
        await checkValue(B, bt.diag(v), { data: dg, shape: [...batch, m, m] }, `diag ${JSON.stringify(hv.shape)}`);
        await checkDir(B, (z) => bt.diag(z), v, seed + 4, `diag ${JSON.stringify(hv.shape)}`);
        await checkValue(B, bt.diagonal(bt.diag(v)), hv, 'diagonal(diag(v))');
      },
    ),
    FC,
  );
});

registerAll(backends, 'take/scatterAdd/sort: second-order derivatives through gathers match finite differences', async (B) => {
  const x = hostTensor(B, hostData(B, [3, 4], 3));
  const idx = bt.tensor([2, -1, 0, 2, 3], { dtype: 'int32' });
  const f = (z: bt.Tensor) => bt.sum(bt.take(z, idx, 1).tanh().mul(bt.sort(z, { axis: 0 }).sum()));
  await checkDir(B, (z) => bt.grad(f)(z), x, 4, 'grad of take/sort');
  const u = hostTensor(B, hostData(B, [3, 5], 5));
  const g = (z: bt.Tensor) => bt.sum(bt.scatterAdd(z, idx, u.mul(z.sum()), 1).sin());
  // sin(u·Σz) oscillates fast along the test direction (|Σu·Σt| ≈ 10): at the default step the
  // central difference's h² truncation is 1.5% (the same on CPU in float64 at that step, shrinking
  // as h²: 0.14% at h/3), so WebGPU takes a 10× smaller step (truncation ~0.015%, noise ~0.03%).
  await checkDir(B, (z) => bt.grad(g)(z), x, 6, 'grad of scatterAdd', 0.1);
});

registerAll(backends, 'take/takeAlongAxis require int32 indices (DTypeError)', () => {
  const x = bt.zeros([3]);
  assert.throws(() => bt.take(x, bt.tensor([0, 1])), (e: Error) => e instanceof bt.DTypeError);
  assert.throws(() => bt.takeAlongAxis(x, bt.tensor([0])), (e: Error) => e instanceof bt.DTypeError);
});

test.run();
