/**
 * Property tests of the reductions, scans, softmaxes and contractions (matmul, outer): forward
 * values against plain-JS references, and reverse + forward mode against central finite
 * differences in float64 on random shapes (rank 0-3, dims 1-4), random axis sets and keepdims.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as bt from '../../src/index.js';
import {
  assertClose, checkDirectional, hostAlongAxis, hostBroadcastShapes, hostReduce, hostTensor, ravelBroadcastIndex, rng, shapeSize,
  unravelIndex, type HostArray,
} from '../helpers.js';

const FC = { seed: 42, numRuns: 20, includeErrorInReport: true };
const VAL_RTOL = 1e-12;
const GRAD_RTOL = 1e-6;

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

function hostData(shape: number[], seed: number, dom: (z: number) => number = (z) => z): HostArray {
  const r = rng(seed);
  const data = Array.from({ length: shapeSize(shape) }, () => dom(Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())));
  return { data, shape };
}

/** Distinct values (a random permutation of a 0.3-spaced grid plus jitter < 0.05): max/min never tie or swap under FD. */
function distinctData(shape: number[], seed: number): HostArray {
  const n = shapeSize(shape);
  const r = rng(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return { data: perm.map((p) => 0.3 * (p - n / 2) + 0.05 * r()), shape };
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
}

const REDUCTIONS: Reduction[] = [
  { name: 'sum', fn: bt.sum, ref: sumRef },
  { name: 'mean', fn: bt.mean, ref: (v) => sumRef(v) / v.length },
  { name: 'max', fn: bt.max, ref: (v) => Math.max(...v), distinct: true },
  { name: 'min', fn: bt.min, ref: (v) => Math.min(...v), distinct: true },
  { name: 'logsumexp', fn: bt.logsumexp, ref: lseRef },
  {
    name: 'variance',
    fn: (x, o) => bt.variance(x, o),
    ref: (v) => {
      const m = sumRef(v) / v.length;
      return sumRef(v.map((x) => (x - m) ** 2)) / v.length;
    },
  },
  {
    name: 'variance(ddof=1)',
    fn: (x, o) => bt.variance(x.mul(1), { ...o, ddof: 1 }),
    ref: (v) => {
      const m = sumRef(v) / v.length;
      return v.length > 1 ? sumRef(v.map((x) => (x - m) ** 2)) / (v.length - 1) : NaN;
    },
  },
];

for (const op of REDUCTIONS) {
  test(`${op.name}: values over random axes/keepdims match the host reference; JVP/VJP match finite differences`, () => {
    fc.assert(
      fc.property(reduceCaseArb, ({ shape, axisArg, axes, keepdims, seed }) => {
        bt.tidy(() => {
          const h = op.distinct ? distinctData(shape, seed) : hostData(shape, seed);
          const x = hostTensor(h);
          const opts: bt.AxisOptions = { axis: axisArg, keepdims };
          const y = op.fn(x, opts);
          const ref = hostReduce(h, axes, keepdims, op.ref);
          const what = `${op.name} ${JSON.stringify(shape)} axis=${JSON.stringify(axisArg)} keepdims=${keepdims}`;
          assert.equal([...y.shape], ref.shape, `${what} shape`);
          assertClose(y, ref.data, VAL_RTOL, 1e-14, `${what} value`);
          if (ref.data.some((v) => Number.isNaN(v))) return; // variance with ddof = 1 over one element
          checkDirectional((z) => op.fn(z, opts), x, seed, GRAD_RTOL, what);
        });
      }),
      FC,
    );
  });
}

test('max/min split the gradient evenly among tied entries', () => {
  const x = bt.tensor([[3, 1, 3], [0, 0, -1]]);
  const gmax = bt.grad((z: bt.Tensor) => bt.sum(bt.max(z, { axis: 1 })))(x);
  assertClose(gmax, [0.5, 0, 0.5, 0.5, 0.5, 0], 0, 0, 'max ties');
  const gmin = bt.grad((z: bt.Tensor) => bt.sum(bt.min(z, { axis: 0 })))(x);
  assertClose(gmin, [0, 0, 0, 1, 1, 1], 0, 0, 'min');
  const gall = bt.grad((z: bt.Tensor) => bt.max(z))(x);
  assertClose(gall, [0.5, 0, 0.5, 0, 0, 0], 0, 0, 'max over all');
  const [, t] = bt.jvp((z: bt.Tensor) => bt.max(z, { axis: 1 }), [x], [bt.tensor([[1, 2, 3], [4, 5, 6]])]);
  assertClose(t as bt.Tensor, [2, 4.5], 0, 0, 'max ties jvp (mean of tied tangents)');
});

test('logsumexp: −Infinity rows give −Infinity (no NaN) and finite gradients; large inputs do not overflow', () => {
  const x = bt.tensor([
    [-Infinity, -Infinity, -Infinity],
    [0, 1, -Infinity],
    [1000, 1000, 999],
    [-1000, -1001, -1000],
  ]);
  const y = bt.logsumexp(x, { axis: 1 });
  const rows = [[-Infinity, -Infinity, -Infinity], [0, 1, -Infinity], [1000, 1000, 999], [-1000, -1001, -1000]];
  assertClose(y, rows.map(lseRef), VAL_RTOL, 0, 'logsumexp rows');
  assert.is(y.dataSync()[0], -Infinity);
  const yk = bt.logsumexp(x, { axis: -1, keepdims: true });
  assert.equal([...yk.shape], [4, 1]);
  assertClose(yk, rows.map(lseRef), VAL_RTOL, 0, 'keepdims');
  // gradient: softmax of each finite row, finite (zero) on the −∞ row and entries
  const f = (z: bt.Tensor) => bt.sum(bt.logsumexp(z, { axis: 1 }).slice([1]));
  const g = Array.from(bt.grad(f)(x).dataSync(), Number);
  assert.ok(g.every(Number.isFinite), `logsumexp gradient not finite: ${g}`);
  const soft = (v: number[]) => v.map((e) => Math.exp(e - lseRef(v)));
  assertClose(g, [0, 0, 0, ...soft(rows[1]!), ...soft(rows[2]!), ...soft(rows[3]!)], 1e-12, 1e-15, 'logsumexp gradient');
  // with the −∞ row's output included the gradient is still finite
  const g2 = Array.from(bt.grad((z: bt.Tensor) => bt.sum(bt.logsumexp(z, { axis: 1 }).sigmoid()))(x).dataSync(), Number);
  assert.ok(g2.every(Number.isFinite), `gradient through the −∞ row not finite: ${g2}`);
  const [, jt] = bt.jvp((z: bt.Tensor) => bt.logsumexp(z, { axis: 1 }), [x], [bt.onesLike(x)]);
  assertClose(jt as bt.Tensor, [0, 1, 1, 1], 1e-12, 0, 'jvp (shift invariance; 0 on the −∞ row)');
  // all of one large tensor
  const big = bt.tensor([1000, 1000]);
  assertClose(bt.logsumexp(big), 1000 + Math.LN2, VAL_RTOL, 0, 'logsumexp(1000, 1000)');
  assertClose(bt.grad((z: bt.Tensor) => bt.logsumexp(z))(big), [0.5, 0.5], VAL_RTOL, 0, 'gradient at 1000');
  assertClose(bt.logsumexp(bt.tensor([-Infinity])), -Infinity, 0, 0, 'single −∞');
  assertClose(bt.logsumexp(bt.tensor([Infinity, 0])), Infinity, 0, 0, '+∞ entry');
});

test('logsumexp: second derivatives (Hessian-vector products) match finite differences', () => {
  const x = bt.tensor(hostData([3, 4], 5).data, { shape: [3, 4] });
  const g = (z: bt.Tensor) => bt.grad((t: bt.Tensor) => bt.sum(bt.logsumexp(t, { axis: 1 }).mul(bt.tensor([1, -2, 0.5]))))(z);
  checkDirectional(g, x, 7, GRAD_RTOL, 'logsumexp grad');
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
}

const SCANS: Scan[] = [
  { name: 'cumsum', fn: (x, axis, reverse) => bt.cumsum(x, { axis, reverse }), ref: cumsumRef },
  { name: 'logcumsumexp', fn: (x, axis, reverse) => bt.logcumsumexp(x, { axis, reverse }), ref: logcumsumexpRef },
  { name: 'softmax', fn: (x, axis) => bt.softmax(x, { axis }), ref: () => softmaxRef },
  { name: 'logSoftmax', fn: (x, axis) => bt.logSoftmax(x, { axis }), ref: () => logSoftmaxRef },
];

for (const op of SCANS) {
  test(`${op.name}: values along a random axis (both directions) match the host reference; JVP/VJP match finite differences`, () => {
    fc.assert(
      fc.property(axisCaseArb, ({ shape, axis, axisArg, reverse, seed }) => {
        bt.tidy(() => {
          const h = hostData(shape, seed, (z) => 2 * z);
          const x = hostTensor(h);
          const y = op.fn(x, axisArg, reverse);
          const what = `${op.name} ${JSON.stringify(shape)} axis=${axisArg} reverse=${reverse}`;
          assert.equal([...y.shape], shape, `${what} shape`);
          assertClose(y, hostAlongAxis(h, axis, op.ref(reverse)).data, VAL_RTOL, 1e-14, `${what} value`);
          checkDirectional((z) => op.fn(z, axisArg, reverse), x, seed, GRAD_RTOL, what);
        });
      }),
      FC,
    );
  });
}

test('scans and softmaxes are stable for large inputs and −Infinity entries', () => {
  const x = bt.tensor([[1000, 1001, 999], [-Infinity, 0, 1]]);
  assertClose(bt.softmax(x, { axis: 1 }), [...softmaxRef([1000, 1001, 999]), 0, ...softmaxRef([0, 1])], 1e-12, 1e-300, 'softmax');
  assertClose(bt.logSoftmax(x.slice([0], [1])), logSoftmaxRef([1000, 1001, 999]), 1e-12, 0, 'logSoftmax large');
  const lc = bt.logcumsumexp(x, { axis: 1 });
  assertClose(lc, [...logcumsumexpRef(false)([1000, 1001, 999]), -Infinity, 0, lseRef([0, 1])], 1e-12, 0, 'logcumsumexp');
  // a leading −∞ (a masked prefix) must not poison the gradient of the later, finite outputs
  const g = Array.from(bt.grad((z: bt.Tensor) => bt.sum(bt.logcumsumexp(z, { axis: 1 }).slice([0, 1])))(x).dataSync());
  assert.ok(g.every(Number.isFinite), `logcumsumexp gradient not finite: ${g}`);
  const gs = Array.from(bt.grad((z: bt.Tensor) => bt.sum(bt.softmax(z, { axis: 1 }).mul(bt.tensor([[1, 2, 3], [4, 5, 6]]))))(x).dataSync());
  assert.ok(gs.every(Number.isFinite), `softmax gradient not finite: ${gs}`);
});

// ---- argmax / argmin ---------------------------------------------------------------------------

test('argmax/argmin: int32 indices matching the host; gradients flow through a gather by them', () => {
  fc.assert(
    fc.property(axisCaseArb, ({ shape, axis, axisArg, seed }) => {
      bt.tidy(() => {
        const h = distinctData(shape, seed);
        const x = hostTensor(h);
        for (const [name, fn, pick] of [
          ['argmax', bt.argmax, (v: number[]) => v.indexOf(Math.max(...v))],
          ['argmin', bt.argmin, (v: number[]) => v.indexOf(Math.min(...v))],
        ] as const) {
          const i = fn(x, { axis: axisArg });
          assert.is(i.dtype, 'int32', name);
          const ref = hostReduce(h, [axis], false, pick);
          assert.equal([...i.shape], ref.shape, `${name} shape`);
          assert.equal(Array.from(i.dataSync()), ref.data, `${name} ${JSON.stringify(shape)} axis ${axisArg}`);
          const ik = fn(x, { axis: axisArg, keepdims: true });
          assert.equal([...ik.shape], hostReduce(h, [axis], true, pick).shape, `${name} keepdims shape`);
          const flat = fn(x);
          assert.equal([...flat.shape], []);
          assert.is(flat.item(), pick(h.data), `${name} flat`);
          // grad through take_along_axis(x, argmax): one-hot at the extreme entries
          const f = (z: bt.Tensor) => bt.sum(bt.takeAlongAxis(z, fn(z, { axis: axisArg, keepdims: true }), axisArg));
          const g = bt.grad(f)(x);
          const hot = hostReduce(h, [axis], true, pick);
          const want = h.data.map((_, k) => {
            const idx = unravelIndex(k, shape);
            return hot.data[ravelBroadcastIndex(idx.map((c, d) => (d === axis ? 0 : c)), hot.shape)] === idx[axis] ? 1 : 0;
          });
          assertClose(g, want, 0, 0, `${name} one-hot gradient`);
          const gz = bt.grad((z: bt.Tensor) => bt.sum(bt.cast(fn(z, { axis: axisArg }), 'float64')))(x);
          assertClose(gz, new Array(h.data.length).fill(0), 0, 0, `${name} zero gradient`);
        }
      });
    }),
    FC,
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

test('matmul: batched with broadcast batch dims, all four transposition combos via mT; values and derivatives', () => {
  fc.assert(
    fc.property(matmulArb, ({ ba, bb, m, k, n, transA, transB, seed }) => {
      bt.tidy(() => {
        // stored operands; op(A) = A or A.mT
        const ha = hostData(transA ? [...ba, k, m] : [...ba, m, k], seed);
        const hb = hostData(transB ? [...bb, n, k] : [...bb, k, n], seed + 1);
        const opA = (t: bt.Tensor) => (transA ? t.mT : t);
        const opB = (t: bt.Tensor) => (transB ? t.mT : t);
        const f = (x: bt.Tensor, y: bt.Tensor) => bt.matmul(opA(x), opB(y));
        const a = hostTensor(ha);
        const b = hostTensor(hb);
        const ref = hostMatmul(transA ? swapLast(ha) : ha, transB ? swapLast(hb) : hb);
        const y = f(a, b);
        const what = `matmul ${JSON.stringify(ha.shape)}${transA ? 'ᵀ' : ''} @ ${JSON.stringify(hb.shape)}${transB ? 'ᵀ' : ''}`;
        assert.equal([...y.shape], ref.shape, `${what} shape`);
        assertClose(y, ref.data, VAL_RTOL, 1e-14, `${what} value`);
        checkDirectional((x) => f(x, b), a, seed, GRAD_RTOL, `${what} d/da`);
        checkDirectional((x) => f(a, x), b, seed + 1, GRAD_RTOL, `${what} d/db`);
        // method form agrees
        assertClose(opA(a).matmul(opB(b)), ref.data, VAL_RTOL, 1e-14, `${what} method`);
      });
    }),
    FC,
  );
});

test('matmul with 1-D operands (vector·matrix, matrix·vector, vector·vector, batch·vector) and outer', () => {
  fc.assert(
    fc.property(
      fc.record({ m: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), bt0: fc.integer({ min: 1, max: 3 }), seed: seedArb }),
      ({ m, k, bt0, seed }) => {
        bt.tidy(() => {
          const hv = hostData([k], seed);
          const hw = hostData([k], seed + 1);
          const hM = hostData([m, k], seed + 2);
          const hB = hostData([bt0, k, m], seed + 3);
          const [v, w, M, B] = [hv, hw, hM, hB].map((h) => hostTensor(h)) as [bt.Tensor, bt.Tensor, bt.Tensor, bt.Tensor];
          const col = (h: HostArray): HostArray => ({ data: h.data, shape: [h.data.length, 1] });
          const row = (h: HostArray): HostArray => ({ data: h.data, shape: [1, h.data.length] });
          const cases: [string, () => bt.Tensor, number[], number[], (x: bt.Tensor) => bt.Tensor, bt.Tensor][] = [
            ['M@v', () => bt.matmul(M, v), [m], hostMatmul(hM, col(hv)).data, (x) => bt.matmul(x, v), M],
            ['M@v (d/dv)', () => bt.matmul(M, v), [m], hostMatmul(hM, col(hv)).data, (x) => bt.matmul(M, x), v],
            ['v@Mᵀ', () => bt.matmul(v, M.mT), [m], hostMatmul(row(hv), swapLast(hM)).data, (x) => bt.matmul(x, M.mT), v],
            ['v@w', () => bt.matmul(v, w), [], [hv.data.reduce((s, e, i) => s + e * hw.data[i]!, 0)], (x) => bt.matmul(v, x), w],
            ['v@v', () => bt.matmul(v, v), [], [hv.data.reduce((s, e) => s + e * e, 0)], (x) => bt.matmul(x, x), v],
            ['B@… v·B', () => bt.matmul(v, B), [bt0, m], hostMatmul(row(hv), hB).data, (x) => bt.matmul(x, B), v],
            ['Bᵀ@v', () => bt.matmul(B.mT, v), [bt0, m], hostMatmul(swapLast(hB), col(hv)).data, (x) => bt.matmul(B.mT, x), v],
            ['Bᵀ@v (d/dB)', () => bt.matmul(B.mT, v), [bt0, m], hostMatmul(swapLast(hB), col(hv)).data, (x) => bt.matmul(x.mT, v), B],
            ['outer', () => bt.outer(v, M), [k, m * k], hostMatmul(col(hv), row(hM)).data, (x) => bt.outer(x, M), v],
            ['outer (d/db)', () => bt.outer(v, M), [k, m * k], hostMatmul(col(hv), row(hM)).data, (x) => bt.outer(v, x), M],
          ];
          for (const [name, run, shape, ref, f, x] of cases) {
            const y = run();
            assert.equal([...y.shape], shape, `${name} shape`);
            assertClose(y, ref, VAL_RTOL, 1e-14, `${name} value`);
            checkDirectional(f, x, seed, GRAD_RTOL, name);
          }
        });
      },
    ),
    FC,
  );
});

test('matmul: second derivatives match finite differences', () => {
  const a = hostTensor(hostData([2, 3, 4], 1));
  const b = hostTensor(hostData([4, 2], 2));
  const ga = (x: bt.Tensor, y: bt.Tensor) => bt.grad((t: bt.Tensor) => bt.sum(bt.matmul(t, y).tanh()))(x);
  checkDirectional((x) => ga(x, b), a, 3, GRAD_RTOL, 'd²/da²');
  checkDirectional((y) => ga(a, y), b, 4, GRAD_RTOL, 'd²/da db');
});

test('matmul float32 values agree with the float64 reference to 1e-6', () => {
  const ha = hostData([3, 5, 4], 8);
  const hb = hostData([4, 6], 9);
  const r = (h: HostArray) => ({ data: h.data.map(Math.fround), shape: h.shape });
  const y = bt.matmul(hostTensor(r(ha), 'float32'), hostTensor(r(hb), 'float32'));
  assert.is(y.dtype, 'float32');
  assertClose(y, hostMatmul(r(ha), r(hb)).data, 1e-6, 1e-6, 'matmul float32');
});

test.run();
