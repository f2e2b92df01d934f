/**
 * CPU/WebGPU parity: every test body runs once on the CPU (float32) and once on WebGPU, and the
 * results are compared with float32 tolerances. Without an adapter the suite fails in CI
 * (CI=true: WebGPU must really run there) and is skipped loudly elsewhere.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { bind, bind1 } from '../../src/autodiff/core.js';
import { matmulPrim } from '../../src/autodiff/ops/matmul.js';
import { randomGammaPrim } from '../../src/autodiff/ops/random.js';
import { reducePrims } from '../../src/autodiff/ops/reduce.js';
import { webgpuOrSkip } from './setup.js';
import { rng } from '../helpers.js';
import { DIV_ULPS, rtolVsCpu32 } from '../f32-bound.js';

const gpu = await webgpuOrSkip('parity');

type Out = bt.Tensor | bt.Tensor[];
type Make = () => Out;

function list(o: Out): bt.Tensor[] {
  return Array.isArray(o) ? o : [o];
}

/** float32 values on the current backend. */
function f32(values: number[] | Float32Array, shape: number[]): bt.Tensor {
  return bt.tensor(Float32Array.from(values), { shape, dtype: 'float32' });
}
function i32(values: number[], shape: number[] = [values.length]): bt.Tensor {
  return bt.tensor(Int32Array.from(values), { shape, dtype: 'int32' });
}
function randomValues(n: number, seed: number, lo = -2, hi = 2): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}
function rand32(shape: number[], seed: number, lo = -2, hi = 2): bt.Tensor {
  return f32(randomValues(shape.reduce((p, d) => p * d, 1), seed, lo, hi), shape);
}

/** float32 subnormals may be flushed to zero on a GPU (WGSL allows it). */
const FLT_MIN = 1.1754943508222875e-38;

function closeEnough(a: number, b: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (Math.abs(a) < FLT_MIN && Math.abs(b) < FLT_MIN) return true;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

async function compare(what: string, got: bt.Tensor[], want: bt.Tensor[], rtol: number, atol: number): Promise<void> {
  assert.is(got.length, want.length, `${what}: number of outputs`);
  for (let k = 0; k < got.length; k++) {
    const g = got[k]!;
    const w = want[k]!;
    assert.equal(g.shape, w.shape, `${what} output ${k}: shape`);
    assert.is(g.dtype, w.dtype, `${what} output ${k}: dtype`);
    assert.is(g.backend, 'webgpu', `${what}: ran on webgpu`);
    const gv = await g.data();
    const wv = await w.data();
    for (let i = 0; i < gv.length; i++) {
      const ok = g.dtype === 'int32' ? gv[i] === wv[i] : closeEnough(gv[i]!, wv[i]!, rtol, atol);
      if (!ok) {
        assert.unreachable(`${what} output ${k} entry ${i} of [${g.shape.join(', ')}]: webgpu ${gv[i]}, cpu ${wv[i]} (rtol ${rtol}, atol ${atol})`);
      }
    }
  }
}

/** Runs `make` on both backends (it must create its inputs itself, as float32/int32) and compares. */
async function parity(what: string, make: Make, rtol = 1e-5, atol = 1e-6): Promise<void> {
  const want = bt.withBackend('cpu', () => bt.tidy(() => list(make())));
  const got = bt.withBackend('webgpu', () => bt.tidy(() => list(make())));
  try {
    await compare(what, got, want, rtol, atol);
  } finally {
    bt.dispose([got, want]);
  }
}

if (gpu) {
  // -----------------------------------------------------------------------------------------
  test('creation defaults to float32 on webgpu; float64 is a DTypeError', async () => {
    bt.withBackend('webgpu', () => bt.tidy(() => {
      assert.is(bt.tensor([1, 2]).dtype, 'float32');
      assert.is(bt.zeros([2]).dtype, 'float32');
      assert.is(bt.eye(2).dtype, 'float32');
      assert.is(bt.linspace(0, 1, 3).dtype, 'float32');
      assert.is(bt.random.normal(bt.random.key(0), [2]).dtype, 'float32');
      assert.throws(() => bt.tensor([1, 2], { dtype: 'float64' }), (e: Error) => e instanceof bt.DTypeError && /float32/.test(e.message));
    }));
    bt.withBackend('cpu', () => assert.is(bt.tensor([1, 2]).dtype, 'float64'));
  });

  test('dataSync is unavailable; data() is async', async () => {
    const t = bt.withBackend('webgpu', () => bt.tensor([1, 2, 3]));
    assert.throws(() => t.dataSync(), /await t\.data\(\)/);
    assert.equal(Array.from(await t.data()), [1, 2, 3]);
    t.dispose();
  });

  // -----------------------------------------------------------------------------------------
  const edge = [0, -0, 1e-30, -1e-7, 1e-4, 0.3, -0.7, 1, -1, 2.5, -2.5, 0.5, -0.5, 3.7, -8.2, 20, -20, 88, 1e6, NaN, Infinity, -Infinity];
  const unary: [string, (x: bt.Tensor) => bt.Tensor, number[], number, number][] = [
    ['neg', bt.neg, edge, 0, 0],
    ['abs', bt.abs, edge, 0, 0],
    ['sign', bt.sign, edge, 0, 0],
    ['floor', bt.floor, edge, 0, 0],
    ['ceil', bt.ceil, edge, 0, 0],
    ['round', bt.round, [...edge, 0.49999997, -1.5, 1.5, 2.5000002, 8388609], 0, 0],
    ['exp', bt.exp, edge, 2e-6, 0],
    ['log', bt.log, edge.map(Math.abs), 2e-6, 1e-7],
    ['log1p', bt.log1p, [...edge, -0.29, 0.41, -0.999, 1e-9], 2e-6, 0],
    ['expm1', bt.expm1, [...edge, 0.49, -0.51, 1e-9], 2e-6, 0],
    ['sqrt', bt.sqrt, edge.map(Math.abs), 1e-6, 0],
    ['rsqrt', bt.rsqrt, edge.map(Math.abs), 2e-6, 0],
    ['sin', bt.sin, randomValues(64, 1, -10, 10), 1e-5, 2e-6],
    ['cos', bt.cos, randomValues(64, 2, -10, 10), 1e-5, 2e-6],
    ['tanh', bt.tanh, [...edge, 0.01, -0.3, 5, 9.5], 2e-6, 0],
    ['sigmoid', bt.sigmoid, [...edge, -50, -100], 2e-6, 0],
    ['erf', bt.erf, [...edge, 0.01, 0.9, -1.7, 3.2, -4.5], 2e-6, 1e-7],
    ['erfinv', bt.erfinv, [0, -0, 1e-6, 0.1, -0.3, 0.5, 0.9, -0.99, 0.999, 0.99999, -0.9999999, 1, -1, 2, NaN], 2e-6, 0],
  ];
  for (const [name, f, values, rtol, atol] of unary) {
    test(`elementwise ${name}`, () => parity(name, () => f(f32(values, [values.length])), rtol, atol));
  }

  test('elementwise isFinite / isNan (int32 results)', () =>
    parity('isFinite/isNan', () => {
      const x = f32(edge, [edge.length]);
      return [bt.isFinite(x), bt.isNan(x), bt.isFinite(i32([1, 2])), bt.isNan(i32([1, 2]))];
    }));

  const shapes: [number[], number[]][] = [
    [[7], [7]],
    [[3, 1, 4], [2, 4]],
    [[], [5, 3]],
    [[2, 3], []],
    [[4, 1], [1, 5]],
    [[2, 1, 3, 1], [1, 4, 1, 2]],
  ];
  const binary: [string, (a: bt.Tensor, b: bt.Tensor) => bt.Tensor, number, number][] = [
    ['add', bt.add, 0, 0],
    ['sub', bt.sub, 0, 0],
    ['mul', bt.mul, 0, 0],
    // WGSL allows x / y 2.5 ulp (NVIDIA: x·rcp(y), an ulp or two off; the CPU rounds to nearest)
    ['div', bt.div, rtolVsCpu32(DIV_ULPS), 0],
    ['maximum', bt.maximum, 0, 0],
    ['minimum', bt.minimum, 0, 0],
    ['atan2', bt.atan2, 2e-6, 1e-7],
    ['equal', bt.equal, 0, 0],
    ['notEqual', bt.notEqual, 0, 0],
    ['less', bt.less, 0, 0],
    ['lessEqual', bt.lessEqual, 0, 0],
    ['greater', bt.greater, 0, 0],
    ['greaterEqual', bt.greaterEqual, 0, 0],
  ];
  for (const [name, f, rtol, atol] of binary) {
    test(`elementwise ${name} with broadcasting`, async () => {
      for (const [sa, sb] of shapes) {
        await parity(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, () => f(rand32(sa, 3), rand32(sb, 4)), rtol, atol);
      }
      // NaN and ties
      await parity(`${name} special`, () => f(f32([NaN, 1, 2, NaN, 0, -0, Infinity], [7]), f32([1, NaN, 2, NaN, -0, 0, Infinity], [7])), rtol, atol);
    });
  }

  test('sin / cos accurate to ~1 ulp on |x| < 8192 against float64 (not the builtins: Vulkan promises only 2^-11 absolute)', async () => {
    const x = Float32Array.from({ length: 200001 }, (_, i) => Math.fround((i - 100000) * 0.0813));
    x[0] = -0;
    for (const op of ['sin', 'cos'] as const) {
      const t = bt.withBackend('webgpu', () => bt.tidy(() => bt[op](bt.tensor(x))));
      const got = await t.data();
      t.dispose();
      for (let i = 0; i < x.length; i++) {
        const want = Math[op](x[i]!);
        // a correctly rounded float32 result is within half an ulp; two ulps of the result, or
        // 2^-23 absolute where it is near a zero (the reduced argument carries ~2^-24 of error)
        const tol = Math.max(2 * 2 ** -23 * Math.abs(want), 2 ** -23);
        if (!(Math.abs(got[i]! - want) <= tol)) assert.unreachable(`${op}(${x[i]}) = ${got[i]}, float64 ${want}`);
      }
      if (op === 'sin') assert.ok(Object.is(got[0], -0), 'sin(-0) = -0');
    }
  });

  test('exp accurate to ~1 ulp over its whole normal range against float64 (Vulkan allows the builtin 3 + 2|x| ulp)', async () => {
    const x = Float32Array.from({ length: 100001 }, (_, i) => Math.fround(-87 + i * (175.5 / 100000)));
    const t = bt.withBackend('webgpu', () => bt.tidy(() => bt.exp(bt.tensor(x))));
    const got = await t.data();
    t.dispose();
    for (let i = 0; i < x.length; i++) {
      const want = Math.exp(x[i]!);
      if (!(Math.abs(got[i]! - want) <= 2 * 2 ** -23 * want)) assert.unreachable(`exp(${x[i]}) = ${got[i]}, float64 ${want}`);
    }
    const special = bt.withBackend('webgpu', () => bt.tidy(() => bt.exp(bt.tensor(Float32Array.from([0, -0, NaN, Infinity, -Infinity, 89, -200])))));
    const sv = Array.from(await special.data());
    special.dispose();
    assert.equal(sv.slice(0, 2), [1, 1]);
    assert.ok(Number.isNaN(sv[2]!) && sv[3] === Infinity && sv[4] === 0 && sv[5] === Infinity && sv[6] === 0, `special values ${sv}`);
  });

  test('elementwise pow (C/IEEE pow semantics: 1^y = 1, (−1)^±∞ = 1)', async () => {
    const a = [2, -2, -2, 0, -0, 0, 1, 1, 3.5, -3.5, NaN, 2, 0.5, 10, -8, Infinity, -Infinity, 1e-3, 7];
    const b = [3, 3, 2, -1, -1, 0, Infinity, NaN, 0.5, 0.5, 0, NaN, -2, 10, 1 / 3, -1, 3, 2.5, 1.7];
    await parity('pow', () => bt.pow(f32(a, [a.length]), f32(b, [b.length])), 4e-6, 0);
    await parity('pow broadcast', () => bt.pow(rand32([3, 4], 5, 0.1, 3), rand32([4], 6, -2, 2)), 4e-6, 0);
  });

  test('elementwise int32 arithmetic wraps like the CPU; division truncates, x/0 = 0', () =>
    parity('int32', () => {
      const a = i32([7, -7, 2147483647, -2147483648, 5, 0, 3, -9]);
      const b = i32([2, 2, 1, -1, 0, 0, -3, 4]);
      return [bt.add(a, b), bt.sub(a, b), bt.mul(a, b), bt.div(a, b), bt.maximum(a, b), bt.minimum(a, b), bt.neg(a), bt.abs(a), bt.sign(a), bt.less(a, b), bt.equal(a, b)];
    }));

  test('cast float32 <-> int32 (ToInt32 semantics)', () =>
    parity('cast', () => {
      const x = f32([1.9, -1.9, 0, -0, 2147483520, -2147483648, 3e9, -3e9, 1e20, NaN, Infinity, 16777217], [12]);
      const n = i32([1, -5, 16777217, 2147483647]);
      return [bt.cast(x, 'int32'), bt.cast(n, 'float32'), bt.cast(x, 'float32'), bt.cast(n, 'int32')];
    }));

  test('where with broadcasting and float/int conditions', () =>
    parity('where', () => {
      const c = i32([1, 0, 1], [3, 1]);
      const cf = f32([0, NaN, 2, -0], [4]);
      return [bt.where(c, rand32([3, 4], 7), rand32([4], 8)), bt.where(cf, rand32([4], 9), f32([5], [])), bt.where(c, i32([1, 2]), i32([3]))];
    }));

  // -----------------------------------------------------------------------------------------
  test('reductions over any axes (sum/max/min, keepdims, long rows, NaN, int32, empty)', async () => {
    const shape = [3, 4, 5];
    for (const axis of [0, 1, 2, [0, 2], [1, 2], [0, 1], [0, 1, 2]] as (number | number[])[]) {
      for (const keepdims of [false, true]) {
        await parity(`sum ${JSON.stringify(axis)} ${keepdims}`, () => bt.sum(rand32(shape, 10), { axis, keepdims }), 1e-5, 1e-5);
        await parity(`max ${JSON.stringify(axis)}`, () => bt.max(rand32(shape, 11), { axis, keepdims }));
        await parity(`min ${JSON.stringify(axis)}`, () => bt.min(rand32(shape, 12), { axis, keepdims }));
      }
    }
    await parity('sum long rows (tree)', () => bt.sum(rand32([3, 3000], 13), { axis: 1 }), 1e-5, 1e-4);
    await parity('sum long leading axis', () => bt.sum(rand32([2000, 3], 14), { axis: 0 }), 1e-5, 1e-4);
    await parity('sum everything', () => bt.sum(rand32([100, 100], 15)), 1e-5, 1e-3);
    await parity('max with NaN', () => [bt.max(f32([1, NaN, 3, 2, 5, 1], [2, 3]), { axis: 1 }), bt.min(f32([1, NaN, 3, 2, 5, 1], [2, 3]), { axis: 0 })]);
    await parity('max long with NaN', () => bt.max(f32([...randomValues(500, 16), NaN, ...randomValues(500, 17)], [1001])));
    await parity('int32 sum/max', () => [bt.sum(i32([1, 2, 3, 2147483647], [2, 2]), { axis: 0 }), bt.max(i32([1, 9, 3, -4], [2, 2]), { axis: 1 })]);
    await parity('empty reductions', () => {
      const e = f32([], [0, 3]);
      return [bt.sum(e, { axis: 0 }), bt.max(e, { axis: 0 }), bt.min(e, { axis: 0 })];
    });
  });

  test('argmax / argmin: first extreme, NaN wins, any axis, long rows', async () => {
    await parity('arg ties', () => {
      const x = f32([1, 3, 3, 0, 0, -1, NaN, 2, 5, 5, 1, NaN], [3, 4]);
      return [bt.argmax(x, { axis: 1 }), bt.argmin(x, { axis: 1 }), bt.argmax(x, { axis: 0 }), bt.argmin(x, { axis: 0 })];
    });
    await parity('arg long', () => {
      const x = rand32([4, 700], 18);
      return [bt.argmax(x, { axis: 1 }), bt.argmin(x, { axis: 0 }), bt.argmax(bt.reshape(x, [2800]))];
    });
  });

  test('cumsum forward and reverse along each axis; int32', async () => {
    for (const axis of [0, 1, 2]) {
      for (const reverse of [false, true]) {
        await parity(`cumsum ${axis} ${reverse}`, () => bt.cumsum(rand32([3, 4, 5], 19), { axis, reverse }), 1e-5, 1e-5);
      }
    }
    await parity('cumsum long', () => bt.cumsum(rand32([5000], 20)), 1e-5, 1e-4);
    await parity('cumsum int32', () => bt.cumsum(i32([1, 2, 3, 4, 5, 6], [2, 3]), { axis: 1 }));
  });

  // -----------------------------------------------------------------------------------------
  test('shape ops: transpose, broadcastTo, slice, pad, concat, reshape', async () => {
    await parity('transpose', () => {
      const x = rand32([2, 3, 4, 5], 21);
      return [bt.transpose(x, [3, 1, 0, 2]), bt.transpose(x, [0, 1, 3, 2]), bt.mT(rand32([5, 7], 22)), bt.transpose(i32([1, 2, 3, 4, 5, 6], [2, 3]))];
    });
    await parity('broadcastTo', () => [bt.broadcastTo(rand32([3, 1], 23), [2, 3, 4]), bt.broadcastTo(f32([7], []), [5]), bt.broadcastTo(rand32([4], 24), [3, 4])]);
    await parity('slice', () => {
      const x = rand32([5, 6, 7], 25);
      return [bt.slice(x, [1, 2, 3], [3, 2, 4]), bt.slice(x, [0, 0, 0], [5, 6, 7]), bt.slice(x, [4, 0, 0], [1, 6, 7]), bt.slice(x, [0, 1, 0], [5, 1, 7])];
    });
    await parity('pad', () => [bt.pad(rand32([3, 4], 26), [1, 0], [2, 3]), bt.pad(i32([1, 2, 3]), [2], [1])]);
    await parity('concat', () => {
      const a = rand32([2, 3, 4], 27);
      const b = rand32([2, 5, 4], 28);
      return [bt.concat([a, b], 1), bt.concat([a, a, a], 0), bt.concat([a, rand32([2, 3, 1], 29)], 2), bt.stack([a, a], 1)];
    });
    await parity('reshape is a view', () => bt.reshape(rand32([2, 6], 30), [3, 4]).add(1));
    await parity('zero-size', () => [bt.concat([f32([], [0, 3]), rand32([2, 3], 31)], 0), bt.add(f32([], [0]), f32([1], []))]);
  });

  test('take / scatterAdd (repeats, negative indices) / argsort (stable, NaN, descending, long rows)', async () => {
    await parity('take', () => {
      const x = rand32([4, 5, 3], 32);
      const idx = i32([3, 0, -1, 3, 1]);
      return [bt.take(x, idx, 0), bt.take(x, i32([0, 4, 2], [3]), 1), bt.take(x, i32([2, 0, 1, 1], [2, 2]), 2), bt.take(i32([5, 6, 7]), i32([2, -3]))];
    });
    await parity('scatterAdd', () => {
      const x = rand32([4, 3], 33);
      const idx = i32([1, 3, 1, -4, 1]);
      const upd = rand32([5, 3], 34);
      return [bt.scatterAdd(x, idx, upd, 0), bt.scatterAdd(x, i32([2, 2]), rand32([4, 2], 35), 1), bt.scatterAdd(i32([0, 0, 0]), i32([1, 1, 2]), i32([5, 6, 7]), 0)];
    }, 1e-6, 1e-6);
    await parity('argsort', () => {
      const x = f32([3, 1, NaN, 2, 1, 3, -0, 0, NaN, -5], [10]);
      const m = rand32([6, 9], 36);
      return [
        bt.argsort(x),
        bt.argsort(x, { descending: true }),
        bt.argsort(m, { axis: 0 }),
        bt.argsort(m, { axis: 1, descending: true }),
        bt.argsort(i32([5, 1, 5, 0, -2])),
        bt.argsort(f32(randomValues(3000, 37).map((v) => Math.round(v * 50)), [3000])),
        bt.sort(rand32([2, 100], 38), { axis: 1 }),
      ];
    });
  });

  // -----------------------------------------------------------------------------------------
  test('matmul: small and tiled, edges, broadcast batches, transA/transB', async () => {
    const mm = (a: bt.Tensor, b: bt.Tensor, transA: boolean, transB: boolean) => bind1(matmulPrim, [a, b], { transA, transB });
    await parity('matmul small', () => bt.matmul(rand32([5, 7], 40), rand32([7, 3], 41)), 1e-5, 1e-5);
    await parity('matmul tiled', () => bt.matmul(rand32([70, 45], 42), rand32([45, 33], 43)), 1e-5, 2e-5);
    await parity('matmul vector', () => [bt.matmul(rand32([40, 30], 44), rand32([30], 45)), bt.matmul(rand32([30], 46), rand32([30, 40], 47))], 1e-5, 2e-5);
    await parity('matmul batch broadcast', () => bt.matmul(rand32([2, 1, 20, 17], 48), rand32([3, 17, 19], 49)), 1e-5, 2e-5);
    await parity('matmul batch tiled', () => bt.matmul(rand32([3, 33, 40], 50), rand32([40, 35], 51)), 1e-5, 2e-5);
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        await parity(`matmul trans ${ta} ${tb}`, () => {
          const a = rand32(ta ? [2, 37, 35] : [2, 35, 37], 52);
          const b = rand32(tb ? [39, 37] : [37, 39], 53);
          const a2 = rand32(ta ? [6, 5] : [5, 6], 54);
          const b2 = rand32(tb ? [4, 6] : [6, 4], 55);
          return [mm(a, b, ta, tb), mm(a2, b2, ta, tb)];
        }, 1e-5, 2e-5);
      }
    }
    await parity('matmul K = 0', () => bt.matmul(f32([], [3, 0]), f32([], [0, 4])));
  });

  test('matmul tile variants: every tile size, vec4 and scalar loads, tile-multiple and ragged shapes, all transpositions, batches', async () => {
    const mm = (a: bt.Tensor, b: bt.Tensor, transA: boolean, transB: boolean) => bind1(matmulPrim, [a, b], { transA, transB });
    // [M, K, N]: 32/64/128 tiles that fit exactly (no bounds checks), ragged edges, K not a
    // multiple of 4 (scalar loads), N not a multiple of 4 (scalar stores), M or N at 16
    const shapes: [number, number, number][] = [
      [64, 64, 64],
      [256, 32, 128],
      [1024, 16, 1024],
      [65, 67, 63],
      [130, 9, 129],
      [16, 100, 17],
      [100, 6, 16],
    ];
    let seed = 500;
    for (const [m, k, n] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          seed += 2;
          const s0 = seed;
          await parity(`matmul ${m}x${k}x${n} tA=${ta} tB=${tb}`, () => mm(rand32(ta ? [k, m] : [m, k], s0), rand32(tb ? [n, k] : [k, n], s0 + 1), ta, tb), 1e-5, 2e-5 * Math.sqrt(k));
        }
      }
    }
    await parity('matmul batch broadcast, tiled', () => [
      bt.matmul(rand32([2, 1, 64, 36], 560), rand32([3, 36, 68], 561)),
      mm(rand32([3, 1, 40, 70], 562), rand32([4, 33, 40], 563), true, true),
      bt.matmul(rand32([5, 33, 20], 564), rand32([20, 130], 565)),
    ], 1e-5, 2e-4);
    // the 128×128 tile (picked when it still gives ≥ 128 workgroups): ragged M and N, K % 8 ≠ 0
    for (const [ta, tb] of [[false, false], [true, true]] as const) {
      await parity(`matmul 1040x12x2060 (128-tiles) tA=${ta} tB=${tb}`, () => mm(rand32(ta ? [12, 1040] : [1040, 12], 570), rand32(tb ? [2060, 12] : [12, 2060], 571), ta, tb), 1e-5, 1e-4);
    }
    await parity('matmul 1025x257 @ 257x513', () => bt.matmul(rand32([1025, 257], 566), rand32([257, 513], 567)), 1e-5, 5e-4);
    await parity('matmul 1025x257 @ 257x513 transposed', () => mm(rand32([257, 1025], 568), rand32([513, 257], 569), true, true), 1e-5, 5e-4);
  });

  // -----------------------------------------------------------------------------------------
  const spd = (n: number, batch: number[], seed: number) => {
    const b = rand32([...batch, n, n], seed);
    return bt.add(bt.div(bt.matmul(b, bt.mT(b)), n), bt.eye(n, n, 'float32'));
  };
  test('linalg: cholesky, triangularSolve, solve, slogdet (batched, broadcast)', async () => {
    await parity('cholesky', () => [bt.linalg.cholesky(spd(5, [3], 60)), bt.linalg.cholesky(spd(33, [], 61))], 1e-4, 1e-5);
    for (const lower of [true, false]) {
      for (const transposeA of [false, true]) {
        for (const unitDiagonal of [false, true]) {
          await parity(`triangularSolve ${lower} ${transposeA} ${unitDiagonal}`, () => {
            const l = bt.linalg.cholesky(spd(6, [2], 62));
            const a = lower ? l : bt.mT(l);
            return [
              bt.linalg.triangularSolve(a, rand32([2, 6, 3], 63), { lower, transposeA, unitDiagonal }),
              bt.linalg.triangularSolve(bt.slice(a, [0, 0, 0], [1, 6, 6]), rand32([6], 64).reshape([6, 1]).broadcastTo([4, 6, 1]).reshape([4, 6, 1]), { lower, transposeA, unitDiagonal }),
            ];
          }, 2e-4, 1e-5);
        }
      }
    }
    await parity('solve', () => {
      const a = rand32([3, 7, 7], 65);
      return [bt.linalg.solve(a, rand32([3, 7, 2], 66)), bt.linalg.solve(a, rand32([7], 67).reshape([7, 1])), bt.linalg.solve(rand32([40, 40], 68), rand32([40, 3], 69))];
    }, 2e-3, 1e-4);
    await parity('slogdet', () => {
      const [s, l] = bt.linalg.slogdet(rand32([4, 6, 6], 70));
      const [s2, l2] = bt.linalg.slogdet(f32([1, 2, 2, 4, 0, 1, 1, 0], [2, 2, 2]));
      return [s, l, s2, l2];
    }, 1e-4, 1e-5);
  });

  test('out-of-range indices: take and scatterAdd raise the CPU\'s ShapeError at the next read; values and other tensors unharmed', async () => {
    const isShape = (what: RegExp) => (e: unknown) => e instanceof bt.ShapeError && what.test((e as Error).message);
    const x = bt.withBackend('webgpu', () => f32([1, 2, 3, 4, 5, 6], [3, 2]));
    // position 2 of the indices is the first bad one (5 ≥ 3); -1 counts from the end; -4 is also bad
    const y = bt.withBackend('webgpu', () => bt.tidy(() => bt.take(x, i32([0, -1, 5, -4]), 0)));
    await y.data().then(
      () => assert.unreachable('the read after an out-of-range take must throw'),
      (e: unknown) => assert.ok(isShape(/^take: indices\[2\] is out of bounds for an axis of size 3/)(e), String(e)),
    );
    assert.equal(Array.from(await y.data()), [1, 2, 5, 6, 0, 0, 0, 0], 'in-range rows gathered; out-of-range rows 0');
    assert.throws(() => bt.withBackend('cpu', () => bt.tidy(() => bt.take(f32([1, 2, 3], [3]), i32([5]), 0))), (e: Error) => e instanceof bt.ShapeError);
    const z = bt.withBackend('webgpu', () => bt.tidy(() => bt.scatterAdd(x, i32([1, 3]), f32([10, 10, 20, 20], [2, 2]), 0)));
    await z.data().then(
      () => assert.unreachable('the read after an out-of-range scatterAdd must throw'),
      (e: unknown) => assert.ok(isShape(/^scatterAdd: indices\[1\] is out of bounds for an axis of size 3/)(e), String(e)),
    );
    assert.equal(Array.from(await z.data()), [1, 2, 13, 14, 5, 6], 'in-range update applied, the other dropped');
    assert.equal(Array.from(await x.data()), [1, 2, 3, 4, 5, 6]);
    // a valid gather afterwards reads without error
    const ok = bt.withBackend('webgpu', () => bt.tidy(() => bt.take(x, i32([2, 0]), 0)));
    assert.equal(Array.from(await ok.data()), [5, 6, 1, 2]);
    bt.dispose([x, y, z, ok]);
  });

  test('cholesky / solve failures: a NumericalError at the next read, naming the op and the matrix (the CPU throws at once)', async () => {
    const isNumerical = (what: RegExp) => (e: unknown) => e instanceof bt.NumericalError && what.test((e as Error).message);
    // one bad matrix (#1) in a batch of 3; a later op and an unrelated tensor are enqueued before the read
    const spd = [4, 2, 2, 3];
    const l = bt.withBackend('webgpu', () => bt.tidy(() => bt.linalg.cholesky(f32([...spd, 1, 2, 2, 1, ...spd], [3, 2, 2]))));
    const other = bt.withBackend('webgpu', () => bt.tidy(() => f32([1, 2, 3], [3]).mul(2)));
    await l.data().then(
      () => assert.unreachable('the read after a failed cholesky must throw'),
      (e: unknown) => assert.ok(isNumerical(/^cholesky: matrix #1 of the batch \(2×2\) is not positive definite/)(e), String(e)),
    );
    // reported once: the next reads succeed, and the output is what the CPU computes before it throws
    const v = await l.data();
    assert.equal([v[0], v[1], v[3]], [2, 0, Math.fround(Math.sqrt(2))]);
    assert.is(v[4], 1);
    assert.ok(v[5] === 0 && Number.isNaN(v[6]!) && Number.isNaN(v[7]!), `rows from the failing pivot are NaN: ${Array.from(v.slice(4, 8))}`);
    assert.equal(Array.from(await other.data()), [2, 4, 6]);
    bt.dispose([l, other]);
    assert.throws(() => bt.withBackend('cpu', () => bt.linalg.cholesky(f32([1, 2, 2, 1], [2, 2]))), isNumerical(/^cholesky: matrix \(2×2\) is not positive definite/));

    // singular solve; a valid solve in the same submit is unaffected
    const x = bt.withBackend('webgpu', () => bt.tidy(() => bt.linalg.solve(f32([1, 2, 2, 4], [2, 2]), f32([1, 1], [2, 1]))));
    await x.data().then(
      () => assert.unreachable('the read after a singular solve must throw'),
      (e: unknown) => assert.ok(isNumerical(/^solve: matrix \(2×2\) is singular/)(e), String(e)),
    );
    const y = bt.withBackend('webgpu', () => bt.tidy(() => bt.linalg.solve(f32([2, 0, 0, 4], [2, 2]), f32([2, 4], [2, 1]))));
    assert.equal(Array.from(await y.data()), [1, 1]);
    bt.dispose([x, y]);
  });

  test('deferred checks: a read issued before the failing op is not the one that reports it', async () => {
    const x = bt.withBackend('webgpu', () => bt.tidy(() => f32([1, 2], [2]).mul(3)));
    await gpu!.sync(); // settle
    const early = x.data(); // issued first
    const l = bt.withBackend('webgpu', () => bt.tidy(() => bt.linalg.cholesky(f32([1, 2, 2, 1], [2, 2]))));
    assert.equal(Array.from(await early), [3, 6], 'the earlier read resolves');
    await l.data().then(
      () => assert.unreachable('the next read reports the failure'),
      (e: unknown) => assert.ok(e instanceof bt.NumericalError, String(e)),
    );
    bt.dispose([x, l]);
  });

  test('deferred checks: 150 checked ops (over several submits) between reads: the failure is reported once, the rest read fine', async () => {
    const outs = bt.withBackend('webgpu', () => bt.tidy(() => {
      const list: bt.Tensor[] = [];
      for (let i = 0; i < 150; i++) {
        const bad = i === 70 || i === 120;
        list.push(bt.linalg.cholesky(f32(bad ? [1, 0, 0, -1] : [2, 0, 0, 3], [2, 2])));
      }
      return list;
    }));
    await outs[149]!.data().then(
      () => assert.unreachable('must throw'),
      (e: unknown) => assert.ok(e instanceof bt.NumericalError && /cholesky/.test((e as Error).message), String(e)),
    );
    assert.equal(Array.from(await outs[0]!.data()), [Math.fround(Math.SQRT2), 0, 0, Math.fround(Math.sqrt(3))]);
    bt.dispose(outs);
    // steady state after the burst: no failure pending
    const ok = bt.withBackend('webgpu', () => bt.tidy(() => bt.linalg.cholesky(f32([9, 0, 0, 16], [2, 2]))));
    assert.equal(Array.from(await ok.data()), [3, 0, 0, 4]);
    ok.dispose();
  });

  // -----------------------------------------------------------------------------------------
  test('PRNG: bits / uniform / split / foldIn bit-identical to the CPU', async () => {
    await parity('random', () => {
      const k = bt.random.key(42);
      const ks = bt.random.split(k, 5);
      return [
        bt.random.bits(k, [1000]),
        bt.random.bits(ks, [3, 7]),
        bt.random.uniform(k, [4097], { dtype: 'float32' }),
        ks,
        bt.random.foldIn(ks, 123456789),
        bt.random.split(bt.random.key(2n ** 40n + 3n), 3),
      ];
    }, 0, 0);
  });

  test('PRNG: random.normal(key(7), [10000]) agrees to float32 rounding', async () => {
    await parity('normal', () => bt.random.normal(bt.random.key(7), [10000], { dtype: 'float32' }), 4e-6, 2e-7);
  });

  test('PRNG: gamma draws agree (float32; an acceptance test at its threshold may differ)', async () => {
    const make = () => {
      const alpha = f32([0.3, 1, 2.5, 7, 0.05, 30], [6]);
      return bind1(randomGammaPrim, [bt.random.split(bt.random.key(3), 50), bt.broadcastTo(alpha, [6])], {});
    };
    const read = async (b: string) => {
      const t = bt.withBackend(b, () => bt.tidy(make));
      const v = await t.data();
      t.dispose();
      return v;
    };
    const want = await read('cpu');
    const got = await read('webgpu');
    let close = 0;
    for (let i = 0; i < want.length; i++) if (closeEnough(got[i]!, want[i]!, 1e-4, 1e-6)) close++;
    assert.ok(close >= want.length - 3, `${close} of ${want.length} gamma draws agree`);
  });

  // -----------------------------------------------------------------------------------------
  // gradients through the transforms, WebGPU vs CPU float32

  const mlp = (p: { w1: bt.Tensor; b1: bt.Tensor; w2: bt.Tensor }, x: bt.Tensor) => {
    const h = bt.tanh(bt.add(bt.matmul(x, p.w1), p.b1));
    return bt.matmul(h, p.w2);
  };
  const params = () => ({ w1: rand32([3, 8], 80, -1, 1), b1: rand32([8], 81, -0.5, 0.5), w2: rand32([8, 2], 82, -1, 1) });

  test('grad / valueAndGrad of an MLP loss', async () => {
    await parity('grad mlp', () => {
      const x = rand32([16, 3], 83);
      const y = rand32([16, 2], 84);
      const loss = (p: ReturnType<typeof params>) => bt.mean(bt.square(bt.sub(mlp(p, x), y)));
      const [v, g] = bt.valueAndGrad(loss)(params());
      return [v, g.w1, g.b1, g.w2];
    }, 1e-4, 1e-6);
  });

  test('grad through softmax, logsumexp, max, where, take, cumsum, linalg', async () => {
    const fns: [string, (x: bt.Tensor) => bt.Tensor][] = [
      ['logsumexp', (x) => bt.sum(bt.logsumexp(x, { axis: 1 }))],
      ['softmax', (x) => bt.sum(bt.mul(bt.softmax(x, { axis: -1 }), bt.arange(0, 5, 1, 'float32')))],
      ['max/min', (x) => bt.add(bt.sum(bt.max(x, { axis: 0 })), bt.sum(bt.min(x, { axis: 1 })))],
      ['where/relu', (x) => bt.sum(bt.mul(bt.relu(x), x))],
      ['take', (x) => bt.sum(bt.square(bt.take(x, i32([0, 2, 2, 1]), 0)))],
      ['cumsum', (x) => bt.sum(bt.mul(bt.cumsum(x, { axis: 1 }), x))],
      ['softplus/erf/sigmoid', (x) => bt.sum(bt.add(bt.softplus(x), bt.mul(bt.erf(x), bt.sigmoid(x))))],
      ['cholesky/logdet', (x) => {
        const a = bt.add(bt.matmul(bt.slice(x, [0, 0], [3, 3]), bt.mT(bt.slice(x, [0, 0], [3, 3]))), bt.eye(3, 3, 'float32'));
        return bt.linalg.logdetCholesky(bt.linalg.cholesky(a));
      }],
      ['solve/slogdet', (x) => {
        const a = bt.add(bt.slice(x, [0, 0], [3, 3]), bt.mul(bt.eye(3, 3, 'float32'), 4));
        return bt.add(bt.sum(bt.linalg.solve(a, bt.slice(x, [0, 3], [3, 2]))), bt.linalg.slogdet(a)[1]);
      }],
    ];
    for (const [name, f] of fns) {
      await parity(`grad ${name}`, () => bt.grad(f)(rand32([4, 5], 85)), 2e-4, 1e-5);
    }
  });

  test('jvp, jacrev / jacfwd (chunked, non-square), hvp, hessian', async () => {
    const f = (x: bt.Tensor) => bt.concat([bt.sin(bt.mul(x, 2)), bt.mul(bt.sum(bt.square(x)), bt.slice(x, [0], [2]))], 0);
    const g = (x: bt.Tensor) => bt.sum(bt.mul(bt.exp(bt.mul(x, 0.3)), bt.cos(x)));
    await parity('jvp', () => {
      const [y, t] = bt.jvp(f, [rand32([4], 86)], [rand32([4], 87)]);
      return [y, t];
    }, 1e-5, 1e-6);
    await parity('jacrev chunked', () => bt.jacrev(f, { chunkSize: 2 })(rand32([4], 88)), 1e-5, 1e-6);
    await parity('jacfwd chunked', () => bt.jacfwd(f, { chunkSize: 3 })(rand32([4], 88)), 1e-5, 1e-6);
    await parity('hvp', () => bt.hvp(g, rand32([5], 89), rand32([5], 90)), 1e-4, 1e-6);
    await parity('hessian', () => bt.hessian(g)(rand32([4], 91)), 1e-4, 1e-6);
  });

  test('gradients on webgpu match central finite differences (float64 on the CPU)', async () => {
    const f = (x: bt.Tensor) => bt.add(bt.sum(bt.tanh(bt.matmul(x, bt.mT(x)))), bt.sum(bt.mul(bt.log1p(bt.square(x)), x)));
    const x0 = randomValues(6, 92, -1, 1);
    const gt = bt.withBackend('webgpu', () => bt.tidy(() => bt.grad(f)(f32(x0, [2, 3]))));
    const g = await gt.data();
    gt.dispose();
    const fd = bt.withBackend('cpu', () => {
      const out: number[] = [];
      for (let i = 0; i < 6; i++) {
        const h = 1e-6;
        const xp = x0.slice();
        xp[i] += h;
        const xm = x0.slice();
        xm[i] -= h;
        out.push(bt.tidy(() => (f(bt.tensor(xp, { shape: [2, 3] })).item() - f(bt.tensor(xm, { shape: [2, 3] })).item()) / (2 * h)));
      }
      return out;
    });
    for (let i = 0; i < 6; i++) assert.ok(closeEnough(g[i]!, fd[i]!, 1e-4, 1e-5), `d/dx${i}: webgpu ${g[i]}, finite differences ${fd[i]}`);
  });

  // -----------------------------------------------------------------------------------------
  test('memory stays flat over many Adam steps (pooled + live bytes constant after warm-up)', async () => {
    const be = gpu!;
    const state = bt.withBackend('webgpu', () => {
      const p = params();
      const zeros = (t: bt.Tensor) => bt.zerosLike(t);
      return { p, m: { w1: zeros(p.w1), b1: zeros(p.b1), w2: zeros(p.w2) }, v: { w1: zeros(p.w1), b1: zeros(p.b1), w2: zeros(p.w2) } };
    });
    const x = bt.withBackend('webgpu', () => rand32([32, 3], 93));
    const y = bt.withBackend('webgpu', () => rand32([32, 2], 94));
    let s = state;
    const lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const step = (t: number) =>
      bt.withBackend('webgpu', () =>
        bt.tidy(() => {
          const g = bt.grad((p: typeof s.p) => bt.mean(bt.square(bt.sub(mlp(p, x), y))))(s.p);
          const out = { p: {} as typeof s.p, m: {} as typeof s.m, v: {} as typeof s.v };
          for (const k of ['w1', 'b1', 'w2'] as const) {
            const m = bt.add(bt.mul(s.m[k], b1), bt.mul(g[k], 1 - b1));
            const v = bt.add(bt.mul(s.v[k], b2), bt.mul(bt.square(g[k]), 1 - b2));
            const mh = bt.div(m, 1 - b1 ** t);
            const vh = bt.div(v, 1 - b2 ** t);
            out.p[k] = bt.sub(s.p[k], bt.div(bt.mul(mh, lr), bt.add(bt.sqrt(vh), eps)));
            out.m[k] = m;
            out.v[k] = v;
          }
          return out;
        }),
      );
    const advance = (from: number, n: number) => {
      for (let t = from; t < from + n; t++) {
        const next = step(t);
        bt.dispose(s);
        s = next;
      }
    };
    const lossNow = async () => {
      const l = bt.withBackend('webgpu', () => bt.tidy(() => bt.mean(bt.square(bt.sub(mlp(s.p, x), y)))));
      const v = (await l.data())[0]!;
      l.dispose();
      return v;
    };
    const loss0 = await lossNow();
    advance(1, 50);
    await be.sync();
    const m0 = be.memory();
    const steps = Number(process.env.WEBGPU_MEMORY_STEPS ?? 10000);
    for (let done = 0; done < steps; done += 250) {
      advance(51 + done, Math.min(250, steps - done));
      await be.sync();
    }
    const m1 = be.memory();
    const loss1 = await lossNow();
    // live bytes may only drop: a tensor an earlier test leaked (never disposed) can be reclaimed
    // by the FinalizationRegistry meanwhile, moving its buffer from live to pooled
    assert.ok(m1.numBytes <= m0.numBytes, `live bytes ${m0.numBytes} -> ${m1.numBytes}`);
    assert.is(m1.numBytes + m1.pooledBytes, m0.numBytes + m0.pooledBytes, 'live + pooled bytes');
    // cached 1-element constants (reported apart) are bounded by the cache's size; a value that
    // recurs for a few steps (1 - 0.9^t on a float32 plateau) may be cached after warm-up
    assert.ok(m1.constBytes <= 64 * 16, `the constant cache keeps to its size (${m1.constBytes} B)`);
    assert.is(m1.buffersCreated, m0.buffersCreated, 'no new GPU buffers after warm-up');
    assert.ok(m1.bindGroups <= 4096, 'bind group cache within its size');
    assert.ok(loss1 < loss0, `Adam reduces the loss (${loss0} -> ${loss1})`);
    console.log(`\n[note] webgpu memory over ${steps} Adam steps: live ${m1.numBytes} B, pooled ${m1.pooledBytes} B (flat), constants ${m1.constBytes} B, ${be.stats.dispatches} dispatches in ${be.stats.submits} submits, ${be.stats.bindGroups} bind groups created, ${be.stats.uploads} uploads`);
    bt.dispose([s, x, y]);
  });

  // -----------------------------------------------------------------------------------------
  test('custom ops: a WGSL kernel through definePrimitive; without one, a BackendError naming the op', async () => {
    const cube = bt.definePrimitive({
      name: 'webgpuTestCube',
      impl: {
        cpu: ([x]) => (x!.data as Float32Array).map((v) => v * v * v),
        webgpu: { shader: 'out0[i] = in0[i] * in0[i] * in0[i];' },
      },
      jvp: ([x], [t]) => [bt.mul(t!, bt.mul(bt.square(x!), 3))],
      vjp: ([ct], [x]) => [ct && bt.mul(ct, bt.mul(bt.square(x!), 3))],
    });
    await parity('custom cube', () => {
      const x = rand32([10], 95);
      return [cube([x])[0]!, bt.grad((z: bt.Tensor) => bt.sum(cube([z])[0]!))(x)];
    });
    const cpuOnly = bt.definePrimitive({ name: 'webgpuTestCpuOnly', impl: { cpu: ([x]) => x!.data.slice() }, nondiff: true });
    assert.throws(
      () => bt.withBackend('webgpu', () => bt.tidy(() => cpuOnly([bt.tensor([1, 2])]))),
      (e: Error) => e instanceof bt.BackendError && /webgpuTestCpuOnly/.test(e.message) && /webgpu/.test(e.message),
    );
  });

  test('ops keep the same names and params as the CPU kernels (reduce params, multi-output slogdet)', async () => {
    await parity('direct prims', () => [
      bind1(reducePrims.reduceSum, [rand32([2, 3], 96)], { axes: [0, 1], keepdims: true }),
      ...bind({ ...reducePrims.argmax }, [rand32([2, 3], 97)], { axis: 1, keepdims: true }),
    ]);
  });

  test('mixing backends is an error; a CPU tensor is unaffected by the GPU', async () => {
    const c = bt.withBackend('cpu', () => bt.tensor([1, 2], { dtype: 'float32' }));
    const g = bt.withBackend('webgpu', () => bt.tensor([1, 2]));
    assert.throws(() => bt.add(c, g), (e: Error) => e instanceof bt.BackendError);
    assert.equal(Array.from(c.dataSync()), [1, 2]);
    bt.dispose([c, g]);
  });

  test.after(() => {
    // the backend stays registered for other files; its device is destroyed at exit
  });
  test.run();
}
