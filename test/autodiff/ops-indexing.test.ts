/**
 * Property tests of the indexing ops (take scatterAdd takeAlongAxis sort argsort diagonal diag triu
 * tril): values against host index arithmetic, and reverse + forward mode against central finite
 * differences in float64 on random shapes, with repeated and negative indices.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as bt from '../../src/index.js';
import { assertClose, checkDirectional, hostAlongAxis, hostTensor, ravelBroadcastIndex, rng, shapeSize, unravelIndex, type HostArray } from '../helpers.js';

const FC = { seed: 42, numRuns: 20, includeErrorInReport: true };
const GRAD_RTOL = 1e-6;

const shape1Arb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
const idxShapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 2 });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });

function hostData(shape: number[], seed: number): HostArray {
  const r = rng(seed);
  const data = Array.from({ length: shapeSize(shape) }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
  return { data, shape };
}

/** Random int32 indices in [-k, k) (negatives count from the end); with n > k repeats are certain. */
function hostIndices(shape: number[], k: number, seed: number): HostArray {
  const r = rng(seed);
  return { data: Array.from({ length: shapeSize(shape) }, () => Math.floor(r() * 2 * k) - k), shape };
}

const intTensor = (h: HostArray) => bt.tensor(Int32Array.from(h.data), { shape: h.shape, dtype: 'int32' });
const wrap = (i: number, k: number) => (i < 0 ? i + k : i);

function checkValue(y: bt.Tensor, ref: HostArray, what: string, rtol = 0): void {
  assert.equal([...y.shape], ref.shape, `${what} shape`);
  assertClose(y, ref.data, rtol, 0, `${what} value`);
}

test('take (random axis, multi-dim, repeated and negative indices): values and derivatives', () => {
  fc.assert(
    fc.property(shape1Arb, idxShapeArb, fc.nat(), fc.boolean(), seedArb, (shape, ishape, a0, negAxis, seed) => {
      bt.tidy(() => {
        const axis = a0 % shape.length;
        const k = shape[axis]!;
        const h = hostData(shape, seed);
        const hi = hostIndices(ishape, k, seed + 1);
        const x = hostTensor(h);
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
        checkValue(bt.take(x, idx, ax), { data, shape: outShape }, what);
        checkValue(x.take(idx, ax), { data, shape: outShape }, `${what} method`);
        checkDirectional((z) => bt.take(z, idx, ax), x, seed, GRAD_RTOL, what);
        // gradient of a sum counts how often each entry was taken (repeats accumulate)
        const count = new Array<number>(k).fill(0);
        for (const i of hi.data) count[wrap(i, k)]!++;
        const g = bt.grad((z: bt.Tensor) => bt.sum(bt.take(z, idx, ax)))(x);
        const want = h.data.map((_, f) => count[unravelIndex(f, shape)[axis]!]!);
        assertClose(g, want, 0, 0, `${what} counts`);
      });
    }),
    FC,
  );
});

test('scatterAdd (repeated and negative indices): values and derivatives w.r.t. operand and updates', () => {
  fc.assert(
    fc.property(shape1Arb, idxShapeArb, fc.nat(), seedArb, (shape, ishape, a0, seed) => {
      bt.tidy(() => {
        const axis = a0 % shape.length;
        const k = shape[axis]!;
        const h = hostData(shape, seed);
        const hi = hostIndices(ishape, k, seed + 1);
        const uShape = [...shape.slice(0, axis), ...ishape, ...shape.slice(axis + 1)];
        const hu = hostData(uShape, seed + 2);
        const [x, u] = [hostTensor(h), hostTensor(hu)];
        const idx = intTensor(hi);
        const data = h.data.slice();
        hu.data.forEach((v, f) => {
          const o = unravelIndex(f, uShape);
          const j = wrap(hi.data[ravelBroadcastIndex(o.slice(axis, axis + ishape.length), ishape)]!, k);
          data[ravelBroadcastIndex([...o.slice(0, axis), j, ...o.slice(axis + ishape.length)], shape)]! += v;
        });
        const what = `scatterAdd ${JSON.stringify(shape)} idx ${JSON.stringify(hi.data)} axis ${axis}`;
        checkValue(bt.scatterAdd(x, idx, u, axis), { data, shape }, what, 1e-12);
        checkDirectional((z) => bt.scatterAdd(z, idx, u, axis), x, seed, GRAD_RTOL, `${what} d/dx`);
        checkDirectional((z) => bt.scatterAdd(x, idx, z, axis), u, seed + 1, GRAD_RTOL, `${what} d/dupdates`);
        checkDirectional((z) => bt.scatterAdd(z, idx, z.take(idx, axis).mul(2), axis), x, seed + 2, GRAD_RTOL, `${what} take∘scatter`);
      });
    }),
    FC,
  );
});

test('takeAlongAxis (repeated and negative indices, other-axis lengths kept): values and derivatives', () => {
  fc.assert(
    fc.property(shape1Arb, fc.nat(), fc.integer({ min: 1, max: 5 }), seedArb, (shape, a0, j, seed) => {
      bt.tidy(() => {
        const axis = a0 % shape.length;
        const k = shape[axis]!;
        const h = hostData(shape, seed);
        const ishape = shape.map((d, i) => (i === axis ? j : d));
        const hi = hostIndices(ishape, k, seed + 1);
        const x = hostTensor(h);
        const idx = intTensor(hi);
        const data = hi.data.map((v, f) => {
          const o = unravelIndex(f, ishape);
          o[axis] = wrap(v, k);
          return h.data[ravelBroadcastIndex(o, shape)]!;
        });
        const what = `takeAlongAxis ${JSON.stringify(shape)} idx ${JSON.stringify(ishape)} axis ${axis}`;
        checkValue(bt.takeAlongAxis(x, idx, axis), { data, shape: ishape }, what);
        checkValue(bt.takeAlongAxis(x, idx, axis - shape.length), { data, shape: ishape }, `${what} negative axis`);
        checkDirectional((z) => bt.takeAlongAxis(z, idx, axis), x, seed, GRAD_RTOL, what);
      });
    }),
    FC,
  );
});

test('sort/argsort (both orders, random axis): values, int32 permutation, gradient flows to the right positions', () => {
  fc.assert(
    fc.property(shape1Arb, fc.nat(), fc.boolean(), seedArb, (shape, a0, descending, seed) => {
      bt.tidy(() => {
        const axis = a0 % shape.length;
        const h = hostData(shape, seed); // continuous: no ties
        const x = hostTensor(h);
        const cmp = descending ? (a: number, b: number) => b - a : (a: number, b: number) => a - b;
        const sorted = hostAlongAxis(h, axis, (v) => [...v].sort(cmp));
        const order = hostAlongAxis(h, axis, (v) => v.map((e, i) => [e, i] as const).sort((p, q) => cmp(p[0], q[0])).map((p) => p[1]));
        const what = `sort ${JSON.stringify(shape)} axis ${axis} ${descending ? 'desc' : 'asc'}`;
        checkValue(bt.sort(x, { axis, descending }), sorted, what);
        const perm = bt.argsort(x, { axis, descending });
        assert.is(perm.dtype, 'int32');
        assert.equal(Array.from(perm.dataSync()), order.data, `${what} argsort`);
        checkValue(x.sort({ axis: axis - shape.length, descending }), sorted, `${what} method, negative axis`);
        checkDirectional((z) => bt.sort(z, { axis, descending }), x, seed, GRAD_RTOL, what);
        // d/dx Σ w ⊙ sort(x): entry order[j] of each fiber receives w[j]
        const hw = hostData(shape, seed + 4);
        const w = hostTensor(hw);
        const g = bt.grad((z: bt.Tensor) => bt.sum(bt.mul(bt.sort(z, { axis, descending }), w)))(x);
        const want = new Array<number>(h.data.length).fill(0);
        order.data.forEach((src, f) => {
          const o = unravelIndex(f, shape);
          o[axis] = src;
          want[ravelBroadcastIndex(o, shape)] = hw.data[f]!;
        });
        assertClose(g, want, 0, 0, `${what} gradient positions`);
        // argsort is non-differentiable: zero gradient, no error
        const gz = bt.grad((z: bt.Tensor) => bt.sum(bt.mul(z, bt.cast(bt.argsort(z, { axis }), 'float64'))))(x);
        const rank = hostAlongAxis(h, axis, (v) => v.map((e, i) => [e, i] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]));
        assertClose(gz, rank.data, 0, 0, `${what} argsort treated as constant`);
      });
    }),
    FC,
  );
});

test('diagonal (offsets -2..2, batch dims), diag, triu, tril (offsets): values and derivatives', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 1 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: -2, max: 2 }),
      seedArb,
      (batch, n, m, k, seed) => {
        bt.tidy(() => {
          const shape = [...batch, n, m];
          const h = hostData(shape, seed);
          const x = hostTensor(h);
          const nb = shapeSize(batch);
          const what = `${JSON.stringify(shape)} k=${k}`;
          // diagonal
          const len = Math.max(0, Math.min(n - Math.max(0, -k), m - Math.max(0, k)));
          const dd: number[] = [];
          for (let b = 0; b < nb; b++) for (let i = 0; i < len; i++) dd.push(h.data[b * n * m + (i + Math.max(0, -k)) * m + i + Math.max(0, k)]!);
          checkValue(bt.diagonal(x, k), { data: dd, shape: [...batch, len] }, `diagonal ${what}`);
          if (len > 0) checkDirectional((z) => bt.diagonal(z, k), x, seed, GRAD_RTOL, `diagonal ${what}`);
          // triu / tril
          const mask = (lower: boolean) => h.data.map((v, f) => {
            const [i, j] = unravelIndex(f, shape).slice(-2) as [number, number];
            return (lower ? j - i <= k : j - i >= k) ? v : 0;
          });
          checkValue(bt.tril(x, k), { data: mask(true), shape }, `tril ${what}`);
          checkValue(bt.triu(x, k), { data: mask(false), shape }, `triu ${what}`);
          checkDirectional((z) => bt.tril(z, k), x, seed + 1, GRAD_RTOL, `tril ${what}`);
          checkDirectional((z) => bt.triu(z, k), x, seed + 2, GRAD_RTOL, `triu ${what}`);
          if (k === 0) {
            checkValue(bt.tril(x), { data: mask(true), shape }, `tril default ${what}`);
            checkValue(bt.triu(x), { data: mask(false), shape }, `triu default ${what}`);
          }
          // diag: [..., m] -> [..., m, m]
          const hv = hostData([...batch, m], seed + 3);
          const v = hostTensor(hv);
          const dg: number[] = [];
          for (let b = 0; b < nb; b++) for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) dg.push(i === j ? hv.data[b * m + i]! : 0);
          checkValue(bt.diag(v), { data: dg, shape: [...batch, m, m] }, `diag ${JSON.stringify(hv.shape)}`);
          checkDirectional((z) => bt.diag(z), v, seed + 4, GRAD_RTOL, `diag ${JSON.stringify(hv.shape)}`);
          checkValue(bt.diagonal(bt.diag(v)), hv, 'diagonal(diag(v))');
        });
      },
    ),
    FC,
  );
});

test('take/scatterAdd/sort: second-order derivatives through gathers match finite differences', () => {
  const x = hostTensor(hostData([3, 4], 3));
  const idx = bt.tensor([2, -1, 0, 2, 3], { dtype: 'int32' });
  const f = (z: bt.Tensor) => bt.sum(bt.take(z, idx, 1).tanh().mul(bt.sort(z, { axis: 0 }).sum()));
  checkDirectional((z) => bt.grad(f)(z), x, 4, GRAD_RTOL, 'grad of take/sort');
  const u = hostTensor(hostData([3, 5], 5));
  const g = (z: bt.Tensor) => bt.sum(bt.scatterAdd(z, idx, u.mul(z.sum()), 1).sin());
  checkDirectional((z) => bt.grad(g)(z), x, 6, GRAD_RTOL, 'grad of scatterAdd');
});

test('take/takeAlongAxis require int32 indices (DTypeError)', () => {
  const x = bt.zeros([3]);
  assert.throws(() => bt.take(x, bt.tensor([0, 1])), (e: Error) => e instanceof bt.DTypeError);
  assert.throws(() => bt.takeAlongAxis(x, bt.tensor([0])), (e: Error) => e instanceof bt.DTypeError);
});

test.run();
