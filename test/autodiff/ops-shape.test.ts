/**
 * Property tests of the shape primitives (reshape transpose broadcastTo expandDims squeeze
 * flatten concat stack slice pad moveAxis mT): values against host index arithmetic, and reverse +
 * forward mode against central finite differences in float64 on random shapes (rank 0-3, dims 1-4).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as bt from '../../src/index.js';
import {
  assertClose, checkDirectional, hostBroadcastShapes, hostMap, hostTensor, hostTranspose, ravelBroadcastIndex, rng, shapeSize,
  unravelIndex, type HostArray,
} from '../helpers.js';

const FC = { seed: 42, numRuns: 20, includeErrorInReport: true };
const GRAD_RTOL = 1e-6;

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
const shape1Arb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });

function hostData(shape: number[], seed: number): HostArray {
  const r = rng(seed);
  const data = Array.from({ length: shapeSize(shape) }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
  return { data, shape };
}

/** out[idx] = x.data[src(idx)] (or 0 where src gives null). */
function hostGather(outShape: number[], src: (idx: number[]) => number | null, x: HostArray): HostArray {
  const data = Array.from({ length: shapeSize(outShape) }, (_, i) => {
    const s = src(unravelIndex(i, outShape));
    return s === null ? 0 : x.data[s]!;
  });
  return { data, shape: outShape };
}

function shuffled(n: number, seed: number): number[] {
  const r = rng(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Exact value check (data movement is exact) plus shape. */
function checkValue(y: bt.Tensor, ref: HostArray, what: string): void {
  assert.equal([...y.shape], ref.shape, `${what} shape`);
  assert.is(y.dtype, 'float64', `${what} dtype`);
  assertClose(y, ref.data, 0, 0, `${what} value`);
}

test('reshape (explicit, with -1, flatten, into extra unit dims): values and derivatives', () => {
  fc.assert(
    fc.property(shapeArb, seedArb, (shape, seed) => {
      bt.tidy(() => {
        const h = hostData(shape, seed);
        const x = hostTensor(h);
        const n = shapeSize(shape);
        const targets: number[][] = [[n], [...shape].reverse(), [1, ...shape, 1], [n, 1], []].filter((t) => shapeSize(t) === n);
        for (const t of targets) {
          checkValue(bt.reshape(x, t), { data: h.data, shape: t }, `reshape ${JSON.stringify(shape)} -> ${JSON.stringify(t)}`);
          checkDirectional((z) => bt.reshape(z, t), x, seed, GRAD_RTOL, `reshape -> ${JSON.stringify(t)}`);
        }
        if (shape.length > 0) {
          const t = [...shape];
          t[seed % shape.length] = -1;
          checkValue(bt.reshape(x, t), { data: h.data, shape }, `reshape with -1 ${JSON.stringify(t)}`);
          checkValue(x.reshape(t), { data: h.data, shape }, 'reshape method');
        }
        checkValue(bt.flatten(x), { data: h.data, shape: [n] }, 'flatten');
        checkDirectional((z) => bt.flatten(z).mul(bt.arange(n).astype('float64').add(1)), x, seed + 1, GRAD_RTOL, 'flatten');
      });
    }),
    FC,
  );
});

test('transpose (random permutations, default reversal), mT and moveAxis: values and derivatives', () => {
  fc.assert(
    fc.property(shapeArb, seedArb, fc.nat(), fc.nat(), (shape, seed, f0, t0) => {
      bt.tidy(() => {
        const r = shape.length;
        const h = hostData(shape, seed);
        const x = hostTensor(h);
        const perm = shuffled(r, seed);
        checkValue(bt.transpose(x, perm), hostTranspose(h, perm), `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`);
        checkDirectional((z) => bt.transpose(z, perm), x, seed, GRAD_RTOL, `transpose ${JSON.stringify(perm)}`);
        const rev = Array.from({ length: r }, (_, i) => r - 1 - i);
        checkValue(bt.transpose(x), hostTranspose(h, rev), 'transpose default');
        checkValue(x.T, hostTranspose(h, rev), 'x.T');
        checkDirectional((z) => bt.transpose(z), x, seed + 1, GRAD_RTOL, 'transpose default');
        const negPerm = perm.map((p) => p - r);
        checkValue(bt.transpose(x, negPerm), hostTranspose(h, perm), 'transpose negative axes');
        if (r >= 2) {
          const pm = Array.from({ length: r }, (_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
          checkValue(bt.mT(x), hostTranspose(h, pm), 'mT');
          checkDirectional((z) => z.mT, x, seed + 2, GRAD_RTOL, 'mT');
        }
        if (r >= 1) {
          const from = f0 % r;
          const to = t0 % r;
          const mp = Array.from({ length: r }, (_, i) => i).filter((i) => i !== from);
          mp.splice(to, 0, from);
          checkValue(bt.moveAxis(x, from, to), hostTranspose(h, mp), `moveAxis ${from}->${to}`);
          checkValue(bt.moveAxis(x, from - r, to - r), hostTranspose(h, mp), `moveAxis ${from - r}->${to - r}`);
          checkDirectional((z) => bt.moveAxis(z, from, to), x, seed + 3, GRAD_RTOL, `moveAxis ${from}->${to}`);
        }
      });
    }),
    FC,
  );
});

test('broadcastTo (unit dims and new leading dims): values and derivatives (summing back)', () => {
  fc.assert(
    fc.property(
      shapeArb,
      fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      fc.integer({ min: 0, max: 3 }),
      seedArb,
      (target, ones, drop, seed) => {
        bt.tidy(() => {
          const src = target.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, target.length));
          const h = hostData(src, seed);
          const x = hostTensor(h);
          const ref = hostMap((v) => v, h, { data: new Array(shapeSize(target)).fill(0), shape: target });
          assert.equal(hostBroadcastShapes(src, target), target);
          const what = `broadcastTo ${JSON.stringify(src)} -> ${JSON.stringify(target)}`;
          checkValue(bt.broadcastTo(x, target), { data: ref.data, shape: target }, what);
          checkValue(x.broadcastTo(target), { data: ref.data, shape: target }, `${what} method`);
          checkDirectional((z) => bt.broadcastTo(z, target), x, seed, GRAD_RTOL, what);
          // gradient of a sum = the number of copies of each entry
          const g = bt.grad((z: bt.Tensor) => bt.sum(bt.broadcastTo(z, target)))(x);
          assertClose(g, new Array(h.data.length).fill(shapeSize(target) / Math.max(1, shapeSize(src))), 0, 0, `${what} copies`);
        });
      },
    ),
    FC,
  );
});

test('expandDims and squeeze (given axes, negative axes, all unit dims): values and derivatives', () => {
  fc.assert(
    fc.property(shapeArb, seedArb, fc.nat(), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (shape, seed, a0, ins) => {
      bt.tidy(() => {
        const r = shape.length;
        const h = hostData(shape, seed);
        const x = hostTensor(h);
        const axis = a0 % (r + 1);
        const expanded = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
        checkValue(bt.expandDims(x, axis), { data: h.data, shape: expanded }, `expandDims ${axis}`);
        checkValue(bt.expandDims(x, axis - r - 1), { data: h.data, shape: expanded }, `expandDims ${axis - r - 1}`);
        checkDirectional((z) => bt.expandDims(z, axis), x, seed, GRAD_RTOL, `expandDims ${axis}`);
        // a shape with unit dims inserted, squeezed back
        const withOnes: number[] = [];
        const unitAxes: number[] = [];
        shape.forEach((d, i) => {
          if (ins[i]) {
            unitAxes.push(withOnes.length);
            withOnes.push(1);
          }
          withOnes.push(d);
        });
        if (ins[3]) {
          unitAxes.push(withOnes.length);
          withOnes.push(1);
        }
        const xo = bt.reshape(x, withOnes);
        checkValue(bt.squeeze(xo, unitAxes), { data: h.data, shape }, `squeeze ${JSON.stringify(withOnes)} axes ${JSON.stringify(unitAxes)}`);
        checkValue(bt.squeeze(xo, unitAxes.map((a) => a - withOnes.length)), { data: h.data, shape }, 'squeeze negative axes');
        checkValue(bt.squeeze(xo), { data: h.data, shape: withOnes.filter((d) => d !== 1) }, 'squeeze all');
        checkDirectional((z) => bt.squeeze(bt.reshape(z, withOnes), unitAxes), x, seed + 1, GRAD_RTOL, 'squeeze');
        if (unitAxes.length > 0) checkValue(xo.squeeze(unitAxes[0]), { data: h.data, shape: withOnes.filter((_, i) => i !== unitAxes[0]) }, 'squeeze one axis');
      });
    }),
    FC,
  );
  assert.throws(() => bt.squeeze(bt.zeros([2, 3]), 0), (e: Error) => e instanceof bt.ShapeError);
});

test('concat (2-3 operands of different lengths on the axis): values and derivatives w.r.t. each operand', () => {
  fc.assert(
    fc.property(shape1Arb, fc.nat(), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 }), fc.boolean(), seedArb, (shape, a0, lens, negAxis, seed) => {
      bt.tidy(() => {
        const axis = a0 % shape.length;
        const hs = lens.map((l, i) => hostData(shape.map((d, j) => (j === axis ? l : d)), seed + i));
        const xs = hs.map((h) => hostTensor(h));
        const total = lens.reduce((a, b) => a + b, 0);
        const outShape = shape.map((d, j) => (j === axis ? total : d));
        const offsets = lens.map((_, i) => lens.slice(0, i).reduce((a, b) => a + b, 0));
        const data = Array.from({ length: shapeSize(outShape) }, (_, f) => {
          const idx = unravelIndex(f, outShape);
          let k = 0;
          while (k + 1 < lens.length && idx[axis]! >= offsets[k + 1]!) k++;
          const local = idx.map((c, j) => (j === axis ? c - offsets[k]! : c));
          return hs[k]!.data[ravelBroadcastIndex(local, hs[k]!.shape)]!;
        });
        const ax = negAxis ? axis - shape.length : axis;
        const what = `concat ${JSON.stringify(hs.map((h) => h.shape))} axis ${ax}`;
        checkValue(bt.concat(xs, ax), { data, shape: outShape }, what);
        xs.forEach((_, i) => {
          checkDirectional((z) => bt.concat(xs.map((x, j) => (j === i ? z : x)), ax), xs[i]!, seed + i, GRAD_RTOL, `${what} d/dx${i}`);
        });
        // the same tensor twice: gradients add
        checkDirectional((z) => bt.concat([z, xs[1]!.mul(0).add(1), z], axis), xs[0]!, seed + 9, GRAD_RTOL, `${what} repeated operand`);
      });
    }),
    FC,
  );
});

test('stack (any axis, negative too): values and derivatives w.r.t. each operand', () => {
  fc.assert(
    fc.property(shapeArb, fc.nat(), fc.integer({ min: 1, max: 3 }), seedArb, (shape, a0, count, seed) => {
      bt.tidy(() => {
        const r = shape.length;
        const axis = a0 % (r + 1);
        const hs = Array.from({ length: count }, (_, i) => hostData(shape, seed + i));
        const xs = hs.map((h) => hostTensor(h));
        const outShape = [...shape.slice(0, axis), count, ...shape.slice(axis)];
        const data = Array.from({ length: shapeSize(outShape) }, (_, f) => {
          const idx = unravelIndex(f, outShape);
          const k = idx[axis]!;
          idx.splice(axis, 1);
          return hs[k]!.data[ravelBroadcastIndex(idx, shape)]!;
        });
        const what = `stack ${count}×${JSON.stringify(shape)} axis ${axis}`;
        checkValue(bt.stack(xs, axis), { data, shape: outShape }, what);
        checkValue(bt.stack(xs, axis - r - 1), { data, shape: outShape }, `${what} (negative axis)`);
        xs.forEach((_, i) => {
          checkDirectional((z) => bt.stack(xs.map((x, j) => (j === i ? z : x)), axis), xs[i]!, seed + i, GRAD_RTOL, `${what} d/dx${i}`);
        });
      });
    }),
    FC,
  );
});

test('slice (random starts and sizes, negative starts, -1 sizes, fewer starts than axes): values and derivatives', () => {
  fc.assert(
    fc.property(shapeArb, seedArb, (shape, seed) => {
      bt.tidy(() => {
        const r = rng(seed + 5);
        const h = hostData(shape, seed);
        const x = hostTensor(h);
        const starts = shape.map((d) => Math.floor(r() * d));
        const sizes = shape.map((d, i) => 1 + Math.floor(r() * (d - starts[i]!)));
        const outShape = sizes;
        const ref = hostGather(outShape, (idx) => ravelBroadcastIndex(idx.map((c, i) => c + starts[i]!), shape), h);
        const what = `slice ${JSON.stringify(shape)} starts ${JSON.stringify(starts)} sizes ${JSON.stringify(sizes)}`;
        checkValue(bt.slice(x, starts, sizes), ref, what);
        checkValue(x.slice(starts, sizes), ref, `${what} method`);
        checkDirectional((z) => bt.slice(z, starts, sizes), x, seed, GRAD_RTOL, what);
        // negative starts, -1 sizes ("to the end")
        const negStarts = starts.map((s, i) => s - shape[i]!);
        const toEnd = shape.map((d, i) => d - starts[i]!);
        const refEnd = hostGather(toEnd, (idx) => ravelBroadcastIndex(idx.map((c, i) => c + starts[i]!), shape), h);
        checkValue(bt.slice(x, negStarts, shape.map(() => -1)), refEnd, `${what} negative starts, -1 sizes`);
        checkValue(bt.slice(x, starts), refEnd, `${what} sizes omitted`);
        checkDirectional((z) => bt.slice(z, negStarts, shape.map(() => -1)), x, seed + 1, GRAD_RTOL, `${what} to the end`);
        if (shape.length > 1) {
          const refLead = hostGather([shape[0]! - starts[0]!, ...shape.slice(1)], (idx) => ravelBroadcastIndex([idx[0]! + starts[0]!, ...idx.slice(1)], shape), h);
          checkValue(bt.slice(x, [starts[0]!]), refLead, 'slice with fewer starts');
        }
      });
    }),
    FC,
  );
  assert.throws(() => bt.slice(bt.zeros([3]), [2], [2]), (e: Error) => e instanceof bt.ShapeError);
});

test('pad (random lo/hi per axis): values and derivatives', () => {
  fc.assert(
    fc.property(shapeArb, seedArb, (shape, seed) => {
      bt.tidy(() => {
        const r = rng(seed + 3);
        const h = hostData(shape, seed);
        const x = hostTensor(h);
        const lo = shape.map(() => Math.floor(r() * 3));
        const hi = shape.map(() => Math.floor(r() * 3));
        const outShape = shape.map((d, i) => d + lo[i]! + hi[i]!);
        const ref = hostGather(outShape, (idx) => {
          const src = idx.map((c, i) => c - lo[i]!);
          return src.every((c, i) => c >= 0 && c < shape[i]!) ? ravelBroadcastIndex(src, shape) : null;
        }, h);
        const what = `pad ${JSON.stringify(shape)} lo ${JSON.stringify(lo)} hi ${JSON.stringify(hi)}`;
        checkValue(bt.pad(x, lo, hi), ref, what);
        checkDirectional((z) => bt.pad(z, lo, hi), x, seed, GRAD_RTOL, what);
        // pad then slice back is the identity, and so is its gradient
        const back = bt.slice(bt.pad(x, lo, hi), lo, shape);
        checkValue(back, h, `${what} pad∘slice`);
      });
    }),
    FC,
  );
});

test('compositions of shape ops: second-order derivatives through them', () => {
  const x = hostTensor(hostData([2, 3, 4], 1));
  const f = (z: bt.Tensor) =>
    bt.sum(bt.concat([bt.slice(bt.moveAxis(z, 2, 0), [1], [2]), bt.pad(bt.transpose(z, [2, 0, 1]), [0, 1, 0], [0, 0, 1]).slice([0, 0, 0], [2, 2, 3])], 0).tanh());
  checkDirectional((z) => bt.grad(f)(z), x, 2, GRAD_RTOL, 'grad of a shape-op composition');
});

test.run();
