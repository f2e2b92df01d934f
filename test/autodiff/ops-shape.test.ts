/**
 * Property tests of the shape primitives (reshape transpose broadcastTo expandDims squeeze
 * flatten concat stack slice pad moveAxis mT): values against host index arithmetic, and reverse +
 * forward mode against central finite differences on random shapes (rank 0-3, dims 1-4).
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * float64 FD check of ../helpers.ts (rtol 1e-6, h 1e-6, as before), and `name [webgpu]` in float32
 * with the harness's float32 FD check. Data movement does no arithmetic, so forward values are
 * compared EXACTLY on both backends (host inputs are rounded to the backend dtype first).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import fc from 'fast-check';
import * as bt from '../../src/index.js';
import { backendsUnderTest, registerAll, assertClose, checkDirectional, T, toDtype, hostData, hostTensor, type BackendCase } from '../backend-harness.js';
import {
  checkDirectional as checkDirectionalF64, hostBroadcastShapes, hostMap, hostTranspose, ravelBroadcastIndex, rng, shapeSize,
  unravelIndex, type HostArray,
} from '../helpers.js';

const backends = await backendsUnderTest('ops-shape');

/** The same cases on both backends (WebGPU needs no reduction: the whole file takes a few seconds). */
const FC = { seed: 42, numRuns: 20, includeErrorInReport: true };
const GRAD_RTOL = 1e-6;

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
const shape1Arb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });



/** Reverse + forward mode vs central differences: float64 (helpers.ts, unchanged) on CPU, the harness's float32 check on WebGPU. */
async function checkDir(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, seed: number, what: string): Promise<void> {
  if (B.name === 'cpu') checkDirectionalF64(f, x, seed, GRAD_RTOL, what);
  else await checkDirectional(B, f, x, seed, what);
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

/** Exact value check (data movement is exact on every backend) plus shape, dtype and backend. */
async function checkValue(B: BackendCase, y: bt.Tensor, ref: HostArray, what: string): Promise<void> {
  assert.equal([...y.shape], ref.shape, `${what} shape`);
  assert.is(y.dtype, B.dtype, `${what} dtype`);
  assert.is(y.backend, B.name, `${what} backend`);
  await assertClose(y, ref.data, 0, 0, `${what} value`);
}

registerAll(backends, 'reshape (explicit, with -1, flatten, into extra unit dims): values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(shapeArb, seedArb, async (shape, seed) => {
        const h = hostData(B, shape, seed);
        const x = hostTensor(B, h);
        const n = shapeSize(shape);
        const targets: number[][] = [[n], [...shape].reverse(), [1, ...shape, 1], [n, 1], []].filter((t) => shapeSize(t) === n);
        for (const t of targets) {
          await checkValue(B, bt.reshape(x, t), { data: h.data, shape: t }, `reshape ${JSON.stringify(shape)} -> ${JSON.stringify(t)}`);
          await checkDir(B, (z) => bt.reshape(z, t), x, seed, `reshape -> ${JSON.stringify(t)}`);
        }
        if (shape.length > 0) {
          const t = [...shape];
          t[seed % shape.length] = -1;
          await checkValue(B, bt.reshape(x, t), { data: h.data, shape }, `reshape with -1 ${JSON.stringify(t)}`);
          await checkValue(B, x.reshape(t), { data: h.data, shape }, 'reshape method');
        }
        await checkValue(B, bt.flatten(x), { data: h.data, shape: [n] }, 'flatten');
        await checkDir(B, (z) => bt.flatten(z).mul(bt.arange(n).astype(B.dtype).add(1)), x, seed + 1, 'flatten');
    }),
    FC,
  );
});

registerAll(backends, 'transpose (random permutations, default reversal), mT and moveAxis: values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(shapeArb, seedArb, fc.nat(), fc.nat(), async (shape, seed, f0, t0) => {
        const r = shape.length;
        const h = hostData(B, shape, seed);
        const x = hostTensor(B, h);
        const perm = shuffled(r, seed);
        await checkValue(B, bt.transpose(x, perm), hostTranspose(h, perm), `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`);
        await checkDir(B, (z) => bt.transpose(z, perm), x, seed, `transpose ${JSON.stringify(perm)}`);
        const rev = Array.from({ length: r }, (_, i) => r - 1 - i);
        await checkValue(B, bt.transpose(x), hostTranspose(h, rev), 'transpose default');
        await checkValue(B, x.T, hostTranspose(h, rev), 'x.T');
        await checkDir(B, (z) => bt.transpose(z), x, seed + 1, 'transpose default');
        const negPerm = perm.map((p) => p - r);
        await checkValue(B, bt.transpose(x, negPerm), hostTranspose(h, perm), 'transpose negative axes');
        if (r >= 2) {
          const pm = Array.from({ length: r }, (_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
          await checkValue(B, bt.mT(x), hostTranspose(h, pm), 'mT');
          await checkDir(B, (z) => z.mT, x, seed + 2, 'mT');
        }
        if (r >= 1) {
          const from = f0 % r;
          const to = t0 % r;
          const mp = Array.from({ length: r }, (_, i) => i).filter((i) => i !== from);
          mp.splice(to, 0, from);
          await checkValue(B, bt.moveAxis(x, from, to), hostTranspose(h, mp), `moveAxis ${from}->${to}`);
          await checkValue(B, bt.moveAxis(x, from - r, to - r), hostTranspose(h, mp), `moveAxis ${from - r}->${to - r}`);
          await checkDir(B, (z) => bt.moveAxis(z, from, to), x, seed + 3, `moveAxis ${from}->${to}`);
        }
    }),
    FC,
  );
});

registerAll(backends, 'broadcastTo (unit dims and new leading dims): values and derivatives (summing back)', async (B) => {
  await fc.assert(
    fc.asyncProperty(
      shapeArb,
      fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      fc.integer({ min: 0, max: 3 }),
      seedArb,
      async (target, ones, drop, seed) => {
          const src = target.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, target.length));
          const h = hostData(B, src, seed);
          const x = hostTensor(B, h);
          const ref = hostMap((v) => v, h, { data: new Array(shapeSize(target)).fill(0), shape: target });
          assert.equal(hostBroadcastShapes(src, target), target);
          const what = `broadcastTo ${JSON.stringify(src)} -> ${JSON.stringify(target)}`;
          await checkValue(B, bt.broadcastTo(x, target), { data: ref.data, shape: target }, what);
          await checkValue(B, x.broadcastTo(target), { data: ref.data, shape: target }, `${what} method`);
          await checkDir(B, (z) => bt.broadcastTo(z, target), x, seed, what);
          // gradient of a sum = the number of copies of each entry
          const g = bt.grad((z: bt.Tensor) => bt.sum(bt.broadcastTo(z, target)))(x);
          await assertClose(g, new Array(h.data.length).fill(shapeSize(target) / Math.max(1, shapeSize(src))), 0, 0, `${what} copies`);
      },
    ),
    FC,
  );
});

registerAll(backends, 'expandDims and squeeze (given axes, negative axes, all unit dims): values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(shapeArb, seedArb, fc.nat(), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), async (shape, seed, a0, ins) => {
        const r = shape.length;
        const h = hostData(B, shape, seed);
        const x = hostTensor(B, h);
        const axis = a0 % (r + 1);
        const expanded = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
        await checkValue(B, bt.expandDims(x, axis), { data: h.data, shape: expanded }, `expandDims ${axis}`);
        await checkValue(B, bt.expandDims(x, axis - r - 1), { data: h.data, shape: expanded }, `expandDims ${axis - r - 1}`);
        await checkDir(B, (z) => bt.expandDims(z, axis), x, seed, `expandDims ${axis}`);
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
        await checkValue(B, bt.squeeze(xo, unitAxes), { data: h.data, shape }, `squeeze ${JSON.stringify(withOnes)} axes ${JSON.stringify(unitAxes)}`);
        await checkValue(B, bt.squeeze(xo, unitAxes.map((a) => a - withOnes.length)), { data: h.data, shape }, 'squeeze negative axes');
        await checkValue(B, bt.squeeze(xo), { data: h.data, shape: withOnes.filter((d) => d !== 1) }, 'squeeze all');
        await checkDir(B, (z) => bt.squeeze(bt.reshape(z, withOnes), unitAxes), x, seed + 1, 'squeeze');
        if (unitAxes.length > 0) await checkValue(B, xo.squeeze(unitAxes[0]), { data: h.data, shape: withOnes.filter((_, i) => i !== unitAxes[0]) }, 'squeeze one axis');
    }),
    FC,
  );
  assert.throws(() => bt.squeeze(bt.zeros([2, 3]), 0), (e: Error) => e instanceof bt.ShapeError);
});

registerAll(backends, 'concat (2-3 operands of different lengths on the axis): values and derivatives w.r.t. each operand', async (B) => {
  await fc.assert(
    fc.asyncProperty(shape1Arb, fc.nat(), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 }), fc.boolean(), seedArb, async (shape, a0, lens, negAxis, seed) => {
        const axis = a0 % shape.length;
        const hs = lens.map((l, i) => hostData(B, shape.map((d, j) => (j === axis ? l : d)), seed + i));
        const xs = hs.map((h) => hostTensor(B, h));
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
        await checkValue(B, bt.concat(xs, ax), { data, shape: outShape }, what);
        for (let i = 0; i < xs.length; i++) {
          await checkDir(B, (z) => bt.concat(xs.map((x, j) => (j === i ? z : x)), ax), xs[i]!, seed + i, `${what} d/dx${i}`);
        }
        // the same tensor twice: gradients add
        await checkDir(B, (z) => bt.concat([z, xs[1]!.mul(0).add(1), z], axis), xs[0]!, seed + 9, `${what} repeated operand`);
    }),
    FC,
  );
});

registerAll(backends, 'stack (any axis, negative too): values and derivatives w.r.t. each operand', async (B) => {
  await fc.assert(
    fc.asyncProperty(shapeArb, fc.nat(), fc.integer({ min: 1, max: 3 }), seedArb, async (shape, a0, count, seed) => {
        const r = shape.length;
        const axis = a0 % (r + 1);
        const hs = Array.from({ length: count }, (_, i) => hostData(B, shape, seed + i));
        const xs = hs.map((h) => hostTensor(B, h));
        const outShape = [...shape.slice(0, axis), count, ...shape.slice(axis)];
        const data = Array.from({ length: shapeSize(outShape) }, (_, f) => {
          const idx = unravelIndex(f, outShape);
          const k = idx[axis]!;
          idx.splice(axis, 1);
          return hs[k]!.data[ravelBroadcastIndex(idx, shape)]!;
        });
        const what = `stack ${count}×${JSON.stringify(shape)} axis ${axis}`;
        await checkValue(B, bt.stack(xs, axis), { data, shape: outShape }, what);
        await checkValue(B, bt.stack(xs, axis - r - 1), { data, shape: outShape }, `${what} (negative axis)`);
        for (let i = 0; i < xs.length; i++) {
          await checkDir(B, (z) => bt.stack(xs.map((x, j) => (j === i ? z : x)), axis), xs[i]!, seed + i, `${what} d/dx${i}`);
        }
    }),
    FC,
  );
});

registerAll(backends, 'slice (random starts and sizes, negative starts, -1 sizes, fewer starts than axes): values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(shapeArb, seedArb, async (shape, seed) => {
        const r = rng(seed + 5);
        const h = hostData(B, shape, seed);
        const x = hostTensor(B, h);
        const starts = shape.map((d) => Math.floor(r() * d));
        const sizes = shape.map((d, i) => 1 + Math.floor(r() * (d - starts[i]!)));
        const outShape = sizes;
        const ref = hostGather(outShape, (idx) => ravelBroadcastIndex(idx.map((c, i) => c + starts[i]!), shape), h);
        const what = `slice ${JSON.stringify(shape)} starts ${JSON.stringify(starts)} sizes ${JSON.stringify(sizes)}`;
        await checkValue(B, bt.slice(x, starts, sizes), ref, what);
        await checkValue(B, x.slice(starts, sizes), ref, `${what} method`);
        await checkDir(B, (z) => bt.slice(z, starts, sizes), x, seed, what);
        // negative starts, -1 sizes ("to the end")
        const negStarts = starts.map((s, i) => s - shape[i]!);
        const toEnd = shape.map((d, i) => d - starts[i]!);
        const refEnd = hostGather(toEnd, (idx) => ravelBroadcastIndex(idx.map((c, i) => c + starts[i]!), shape), h);
        await checkValue(B, bt.slice(x, negStarts, shape.map(() => -1)), refEnd, `${what} negative starts, -1 sizes`);
        await checkValue(B, bt.slice(x, starts), refEnd, `${what} sizes omitted`);
        await checkDir(B, (z) => bt.slice(z, negStarts, shape.map(() => -1)), x, seed + 1, `${what} to the end`);
        if (shape.length > 1) {
          const refLead = hostGather([shape[0]! - starts[0]!, ...shape.slice(1)], (idx) => ravelBroadcastIndex([idx[0]! + starts[0]!, ...idx.slice(1)], shape), h);
          await checkValue(B, bt.slice(x, [starts[0]!]), refLead, 'slice with fewer starts');
        }
    }),
    FC,
  );
  assert.throws(() => bt.slice(bt.zeros([3]), [2], [2]), (e: Error) => e instanceof bt.ShapeError);
});

registerAll(backends, 'pad (random lo/hi per axis): values and derivatives', async (B) => {
  await fc.assert(
    fc.asyncProperty(shapeArb, seedArb, async (shape, seed) => {
        const r = rng(seed + 3);
        const h = hostData(B, shape, seed);
        const x = hostTensor(B, h);
        const lo = shape.map(() => Math.floor(r() * 3));
        const hi = shape.map(() => Math.floor(r() * 3));
        const outShape = shape.map((d, i) => d + lo[i]! + hi[i]!);
        const ref = hostGather(outShape, (idx) => {
          const src = idx.map((c, i) => c - lo[i]!);
          return src.every((c, i) => c >= 0 && c < shape[i]!) ? ravelBroadcastIndex(src, shape) : null;
        }, h);
        const what = `pad ${JSON.stringify(shape)} lo ${JSON.stringify(lo)} hi ${JSON.stringify(hi)}`;
        await checkValue(B, bt.pad(x, lo, hi), ref, what);
        await checkDir(B, (z) => bt.pad(z, lo, hi), x, seed, what);
        // pad then slice back is the identity, and so is its gradient
        const back = bt.slice(bt.pad(x, lo, hi), lo, shape);
        await checkValue(B, back, h, `${what} pad∘slice`);
    }),
    FC,
  );
});

registerAll(backends, 'compositions of shape ops: second-order derivatives through them', async (B) => {
  const x = hostTensor(B, hostData(B, [2, 3, 4], 1));
  const f = (z: bt.Tensor) =>
    bt.sum(bt.concat([bt.slice(bt.moveAxis(z, 2, 0), [1], [2]), bt.pad(bt.transpose(z, [2, 0, 1]), [0, 1, 0], [0, 0, 1]).slice([0, 0, 0], [2, 2, 3])], 0).tanh());
  await checkDir(B, (z) => bt.grad(f)(z), x, 2, 'grad of a shape-op composition');
});

test.run();
