/**
 * User derivative rules (customVjp, customJvp) and user primitives (definePrimitive).
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * tolerances and float64 finite differences of ../helpers.ts exactly as before, and
 * `name [webgpu]` in float32: AD-vs-AD (or AD-vs-closed-form) values to the harness's adRtol (64
 * ulps, relative and absolute), exact where the computation is exact, and the harness's float32
 * finite differences. The user primitives carry a WGSL kernel next to the CPU one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import {
  assertJacobianVsFD, backendsUnderTest, checkDirectional, numericJacobian as numericJacobianB, randnB, registerAll, scalar, T,
  toDtype, WEBGPU, type BackendCase, AD32, close, EXACT, type Tol,
} from '../backend-harness.js';
import { assertClose as assertClose64, checkDirectional as checkDirectional64, numericGrad, numericJacobian } from '../helpers.js';

const backends = await backendsUnderTest('custom');

const ADR = WEBGPU.adRtol;

/**
 * Reverse + forward mode vs central differences: float64 (helpers.ts, unchanged) on CPU, the
 * harness's float32 check on WebGPU (with FD step `step32` if given).
 */
async function dir(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, seed: number, what: string, step32?: number): Promise<void> {
  assert.is(x.backend, B.name, `${what}: input on ${B.name}`);
  if (B.name === 'cpu') checkDirectional64(f, x, seed, 1e-6, what);
  else await checkDirectional(step32 ? { ...B, fdStep: step32 } : B, f, x, seed, what);
}

/** An AD gradient / Jacobian of f at x vs central differences: helpers.ts (1e-6, 1e-9) on CPU, the harness's float32 FD on WebGPU. */
async function vsFD(B: BackendCase, got: bt.Tensor, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, what: string, jacobian = false): Promise<void> {
  if (B.name === 'cpu') return assertClose64(got, jacobian ? numericJacobian(f, x) : numericGrad(f, x), 1e-6, 1e-9, what);
  await assertJacobianVsFD(B, got, await numericJacobianB(B, f, x), what);
}

// ---------------------------------------------------------------- customVjp

let clipBwdCalls = 0;
/** The identity whose cotangent is clipped to [−1, 1] (gradient clipping). */
const clipGrad = bt.customVjp(
  (x: bt.Tensor) => x,
  (x: bt.Tensor) => [x, null] as [bt.Tensor, unknown],
  (_res: unknown, ct: bt.Tensor) => {
    clipBwdCalls++;
    return [bt.clip(ct, -1, 1)];
  },
);
const Cv = [3, -0.5, 0.2, -2];
/** The weights on the backend under test, and the clipped gradient as that backend holds it. */
const C = (B: BackendCase) => T(B, Cv, [4]);
const clippedC = (B: BackendCase) => [1, -0.5, 0.2, -1].map((v) => toDtype(B, v));
const randn = (B: BackendCase, shape: number[], seed: number) => randnB(B, shape, seed);

registerAll(backends, 'customVjp under grad uses bwd (clipped-gradient identity)', async (B) => {
  const x = randn(B, [4], 1);
  clipBwdCalls = 0;
  const value = bt.sum(clipGrad(x).mul(C(B)));
  await close(B, value, bt.sum(x.mul(C(B))), 'primal is f', [1e-14, 0], EXACT);
  assert.is(clipBwdCalls, 0, 'no bwd outside reverse mode');
  const g = bt.grad((z: bt.Tensor) => bt.sum(clipGrad(z).mul(C(B))))(x);
  await close(B, g, clippedC(B), 'clipped gradient', EXACT, EXACT);
  assert.ok(clipBwdCalls >= 1, 'bwd was called');
});

registerAll(backends, 'customVjp under jacrev (vmap over the pullback) uses bwd', async (B) => {
  const x = randn(B, [4], 2);
  clipBwdCalls = 0;
  const J = bt.jacrev((z: bt.Tensor) => clipGrad(z).mul(C(B)))(x);
  assert.ok(clipBwdCalls >= 1, 'bwd was called under jacrev');
  await close(B, J, bt.diag(T(B, clippedC(B), [4])), 'jacrev', EXACT, EXACT);
  for (const chunkSize of [1, 3]) await close(B, bt.jacrev((z: bt.Tensor) => clipGrad(z).mul(C(B)), { chunkSize })(x), J, `jacrev chunk ${chunkSize}`, EXACT, EXACT);
});

registerAll(backends, 'customVjp falls back to f under jvp / jacfwd (bwd not called)', async (B) => {
  const x = randn(B, [4], 3);
  const t = randn(B, [4], 4);
  clipBwdCalls = 0;
  const [y, ty] = bt.jvp((z: bt.Tensor) => clipGrad(z).mul(C(B)), [x], [t]);
  await close(B, y, x.mul(C(B)), 'primal', [1e-14, 1e-12], EXACT);
  await close(B, ty, t.mul(C(B)), 'unclipped tangent: the derivative of f', [1e-14, 0], EXACT);
  await close(B, bt.jacfwd((z: bt.Tensor) => clipGrad(z).mul(C(B)))(x), bt.diag(C(B)), 'jacfwd is the true Jacobian', EXACT, EXACT);
  assert.is(clipBwdCalls, 0, 'bwd not used by forward mode');
  // under vmap alone: just f
  await close(B, bt.vmap((z: bt.Tensor) => clipGrad(z).mul(C(B)))(randn(B, [2, 4], 5)), randn(B, [2, 4], 5).mul(C(B)), 'vmap', [1e-14, 1e-12], EXACT);
});

let lseBwdCalls = 0;
/** log Σ exp along the last axis, with the softmax as residual and an analytic bwd. */
const lse = bt.customVjp(
  (x: bt.Tensor) => bt.logsumexp(x, { axis: -1 }),
  (x: bt.Tensor) => [bt.logsumexp(x, { axis: -1 }), bt.softmax(x, { axis: -1 })] as [bt.Tensor, unknown],
  (sm: bt.Tensor, ct: bt.Tensor) => {
    lseBwdCalls++;
    return [sm.mul(bt.expandDims(ct, -1))];
  },
);

registerAll(backends, 'customVjp with a known analytic gradient: grad, jacrev and grad∘grad match numerics', async (B) => {
  const x = randn(B, [3, 5], 10);
  lseBwdCalls = 0;
  const w = T(B, [1, -2, 0.5], [3]);
  const f = (z: bt.Tensor) => bt.sum(lse(z).mul(w));
  const g = bt.grad(f)(x);
  assert.ok(lseBwdCalls >= 1, 'bwd called under grad');
  await vsFD(B, g, f, x, 'grad vs numeric');
  await close(B, g, bt.softmax(x, { axis: -1 }).mul(T(B, [1, -2, 0.5], [3, 1])), 'grad vs softmax', [1e-12, 1e-14], AD32);
  lseBwdCalls = 0;
  const J = bt.jacrev(lse)(x);
  assert.ok(lseBwdCalls >= 1, 'bwd called under jacrev');
  assert.equal([...J.shape], [3, 3, 5]);
  await vsFD(B, J, lse, x, 'jacrev vs numeric', true);
  await close(B, J, bt.jacfwd(lse)(x), 'jacrev (bwd) vs jacfwd (f)', [1e-12, 1e-14], AD32);
  // second order: the bwd is built from differentiable ops, so grad∘grad flows through it
  const v = randn(B, [5], 11);
  const f1 = (z: bt.Tensor) => lse(z);
  const hv = bt.grad((z: bt.Tensor) => bt.sum(bt.grad(f1)(z).mul(v)))(v.mul(0.3));
  const sm = bt.softmax(v.mul(0.3));
  const want = sm.mul(v).sub(sm.mul(bt.sum(sm.mul(v)))); // (diag(s) − s sᵀ) v
  await close(B, hv, want, 'hvp through bwd', [1e-12, 1e-14], AD32);
});

registerAll(backends, 'customVjp with several arguments and a pytree output', async (B) => {
  let calls = 0;
  const f = bt.customVjp(
    (a: bt.Tensor, b: bt.Tensor) => ({ p: a.mul(b), s: bt.sum(a) }),
    (a: bt.Tensor, b: bt.Tensor) => [{ p: a.mul(b), s: bt.sum(a) }, [a, b]] as [{ p: bt.Tensor; s: bt.Tensor }, unknown],
    (res: bt.Tensor[], ct: { p: bt.Tensor; s: bt.Tensor }) => {
      calls++;
      const [a, b] = res;
      return [ct.p.mul(b!).add(ct.s), ct.p.mul(a!)];
    },
  );
  const a = randn(B, [3], 20);
  const b = randn(B, [3], 21);
  const loss = (x: bt.Tensor, y: bt.Tensor) => {
    const o = f(x, y);
    return bt.sum(o.p.square()).add(o.s.mul(3));
  };
  const [ga, gb] = bt.grad(loss, { argnums: [0, 1] })(a, b) as bt.Tensor[];
  assert.ok(calls >= 1);
  await close(B, ga!, a.mul(b).mul(b).mul(2).add(3), 'd/da', [1e-12, 1e-14], AD32);
  await close(B, gb!, a.mul(b).mul(a).mul(2), 'd/db', [1e-12, 1e-14], AD32);
});

// ---------------------------------------------------------------- customJvp

let spCalls = 0;
const softplusC = bt.customJvp(
  (x: bt.Tensor) => bt.log1p(bt.exp(x)),
  ([x]: [bt.Tensor], [t]: [bt.Tensor]) => {
    spCalls++;
    return [bt.log1p(bt.exp(x)), t.mul(bt.sigmoid(x))] as [bt.Tensor, bt.Tensor];
  },
);

/** A rule that deliberately differs from f's derivative (2×), to see which one a transform used. */
let markedCalls = 0;
const marked = bt.customJvp(
  (x: bt.Tensor) => bt.sin(x),
  ([x]: [bt.Tensor], [t]: [bt.Tensor]) => {
    markedCalls++;
    return [bt.sin(x), t.mul(bt.cos(x)).mul(2)] as [bt.Tensor, bt.Tensor];
  },
);

registerAll(backends, 'customJvp is used by jvp and jacfwd', async (B) => {
  const x = randn(B, [4], 30);
  const t = randn(B, [4], 31);
  const tol: Tol = [1e-12, 1e-14];
  spCalls = 0;
  const [y, ty] = bt.jvp(softplusC, [x], [t]);
  assert.ok(spCalls >= 1, 'rule called under jvp');
  await close(B, y, bt.softplus(x), 'primal', tol, AD32);
  await close(B, ty, t.mul(bt.sigmoid(x)), 'tangent', tol, AD32);
  spCalls = 0;
  await close(B, bt.jacfwd(softplusC)(x), bt.diag(bt.sigmoid(x)), 'jacfwd', tol, AD32);
  assert.ok(spCalls >= 1, 'rule called under jacfwd');
  markedCalls = 0;
  await close(B, bt.jvp(marked, [x], [t])[1] as bt.Tensor, t.mul(bt.cos(x)).mul(2), 'marked rule under jvp', tol, AD32);
  await close(B, bt.jacfwd(marked)(x), bt.diag(bt.cos(x).mul(2)), 'marked rule under jacfwd', tol, AD32);
  assert.ok(markedCalls >= 2);
});

registerAll(backends, 'customJvp under grad / jacrev is the transpose of the rule', async (B) => {
  const x = randn(B, [4], 32);
  const tol: Tol = [1e-12, 1e-14];
  spCalls = 0;
  const g = bt.grad((z: bt.Tensor) => bt.sum(softplusC(z)))(x);
  assert.ok(spCalls >= 1, 'rule called under grad');
  await close(B, g, bt.sigmoid(x), 'analytic gradient', tol, AD32);
  await vsFD(B, g, (z) => bt.sum(softplusC(z)), x, 'numeric gradient');
  const w = randn(B, [4], 33);
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(marked(z).mul(w)))(x), bt.cos(x).mul(2).mul(w), 'marked rule under grad', tol, AD32);
  await close(B, bt.jacrev(marked)(x), bt.diag(bt.cos(x).mul(2)), 'marked rule under jacrev', tol, AD32);
  // under neither: just f
  markedCalls = 0;
  await close(B, marked(x), bt.sin(x), 'f', [1e-14, 1e-12], EXACT);
  assert.is(markedCalls, 0);
});

registerAll(backends, 'customJvp with two arguments, non-elementwise tangent map, under grad', async (B) => {
  // f(A, x) = tanh(A x); rule: ṫ = sech²(Ax) ⊙ (Ȧ x + A ẋ)
  const f = bt.customJvp(
    (A: bt.Tensor, x: bt.Tensor) => bt.tanh(bt.matmul(A, x)),
    ([A, x]: [bt.Tensor, bt.Tensor], [tA, tx]: [bt.Tensor, bt.Tensor]) => {
      const y = bt.tanh(bt.matmul(A, x));
      const s2 = y.square().neg().add(1);
      return [y, s2.mul(bt.matmul(tA, x).add(bt.matmul(A, tx)))] as [bt.Tensor, bt.Tensor];
    },
  );
  const A = randn(B, [3, 2], 40);
  const x = randn(B, [2, 2], 41);
  const w = randn(B, [3, 2], 42);
  const loss = (a: bt.Tensor, b: bt.Tensor) => bt.sum(f(a, b).mul(w));
  const [gA, gx] = bt.grad(loss, { argnums: [0, 1] })(A, x) as bt.Tensor[];
  await vsFD(B, gA!, (a) => loss(a, x), A, 'd/dA');
  await vsFD(B, gx!, (b) => loss(A, b), x, 'd/dx');
  await dir(B, (b) => f(A, b), x, 43, 'customJvp directional');
});

// ---------------------------------------------------------------- definePrimitive

type Arr = Float64Array | Float32Array;
let cubeKernelCalls = 0;
const cubeKernel = ([x]: bt.CpuInput[]): Arr => {
  cubeKernelCalls++;
  const d = x!.data as Arr;
  const out = d instanceof Float32Array ? new Float32Array(d.length) : new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = d[i]! * d[i]! * d[i]!;
  return out;
};

/** The WGSL twin of cubeKernel; `threads` is called once per dispatch, so it counts kernel calls too. */
const cubeWgsl = {
  shader: 'out0[i] = in0[i] * in0[i] * in0[i];',
  threads: (_i: unknown, _p: unknown, outs: readonly { shape: readonly number[] }[]) => {
    cubeKernelCalls++;
    return outs[0]!.shape.reduce((p, d) => p * d, 1);
  },
};

const cubeOp = bt.definePrimitive({
  name: 'test_cube',
  impl: { cpu: cubeKernel, webgpu: cubeWgsl },
  jvp: ([x], [t]) => [t && t.mul(x!.square()).mul(3)],
  vjp: ([ct], [x]) => [ct && ct.mul(x!.square()).mul(3)],
});
const cube = (x: bt.Tensor) => cubeOp([x])[0]!;

let batchRuleCalls = 0;
const cubeB: bt.UserOp<Record<string, unknown>> = bt.definePrimitive({
  name: 'test_cube_batched',
  impl: { cpu: cubeKernel, webgpu: cubeWgsl },
  jvp: ([x], [t]) => [t && t.mul(x!.square()).mul(3)],
  vjp: ([ct], [x]) => [ct && ct.mul(x!.square()).mul(3)],
  batch: ([x]): bt.Tensor[] => {
    batchRuleCalls++;
    return [cubeB([x!])[0]!]; // elementwise: the batched op is the op on the stacked array
  },
});

registerAll(backends, 'definePrimitive: values, gradient checks (reverse and forward)', async (B) => {
  const x = randn(B, [3, 4], 50);
  // the kernel and x·x·x round the same products on each backend
  await close(B, cube(x), x.mul(x).mul(x), 'values', [1e-14, 1e-12], AD32);
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(cube(z)))(x), x.square().mul(3), 'grad', [1e-14, 1e-12], AD32);
  await dir(B, cube, x, 51, 'cube');
  await dir(B, (z) => bt.tanh(cube(bt.matmul(z, z.T))), x.mul(0.5), 52, 'cube in a composite');
  await close(B, bt.jacfwd(cube)(x), bt.jacrev(cube)(x), 'jacfwd vs jacrev', [1e-14, 0], AD32);
  const f32 = cube(bt.tensor([1.5, -2], { dtype: 'float32' }));
  assert.is(f32.dtype, 'float32');
  await close(B, f32, [3.375, -8], 'float32', [0, 1e-12], EXACT);
});

registerAll(backends, 'definePrimitive: grad∘grad and third derivatives (rules are written with differentiable ops)', async (B) => {
  const s = (v: number) => T(B, [v], []);
  for (const x0 of [-1.5, 0.3, 2]) {
    const x = s(x0);
    const xr = toDtype(B, x0);
    await close(B, await scalar(bt.grad(bt.grad(cube))(x)), 6 * xr, `d²/dx² at ${x0}`, [1e-14, 0], [ADR, 0]);
    await close(B, await scalar(bt.grad(bt.grad(bt.grad(cube)))(x)), 6, `d³/dx³ at ${x0}`, [1e-14, 0], [ADR, 0]);
    const fwd2 = (z: bt.Tensor) => bt.jvp((u: bt.Tensor) => bt.jvp(cube, [u], [s(1)])[1] as bt.Tensor, [z], [s(1)])[1] as bt.Tensor;
    await close(B, await scalar(fwd2(x)), 6 * xr, `fwd² at ${x0}`, [1e-14, 0], [ADR, 0]);
  }
  const x = randn(B, [5], 53);
  const v = randn(B, [5], 54);
  await close(B, bt.hvp((z: bt.Tensor) => bt.sum(cube(z)), x, v), x.mul(6).mul(v), 'hvp', [1e-13, 0], [ADR, 0]);
});

registerAll(backends, 'definePrimitive under vmap: the fallback loop and a given batch rule', async (B) => {
  const X = randn(B, [4, 3], 60);
  const tol: Tol = [1e-14, 0];
  cubeKernelCalls = 0;
  const y = bt.vmap(cube)(X);
  await close(B, y, X.mul(X).mul(X), 'fallback loop values', tol, AD32);
  assert.is(cubeKernelCalls, 4, 'fallback loop runs the kernel once per example');
  batchRuleCalls = 0;
  cubeKernelCalls = 0;
  const yb = bt.vmap((z: bt.Tensor) => cubeB([z])[0]!)(X);
  await close(B, yb, X.mul(X).mul(X), 'batch rule values', tol, AD32);
  assert.is(batchRuleCalls, 1, 'batch rule used');
  assert.is(cubeKernelCalls, 1, 'one kernel call over the whole batch');
  // vmap of grad, and jacrev (which vmaps the pullback)
  const pg = bt.vmap(bt.grad((z: bt.Tensor) => bt.sum(cube(z))))(X);
  await close(B, pg, X.square().mul(3), 'vmap(grad)', tol, AD32);
  const row = X.slice([0], [1]).reshape([3]);
  await close(B, bt.jacrev((z: bt.Tensor) => cubeB([z])[0]!)(row), bt.diag(row.square().mul(3)), 'jacrev', tol, AD32);
  // inAxes 1
  await close(B, bt.vmap(cube, { inAxes: 1 })(X), X.T.mul(X.T).mul(X.T), 'inAxes 1', tol, AD32);
});

registerAll(backends, 'a user op without a kernel for the current backend is a BackendError naming the op', (B) => {
  // an op with a kernel for the other backend only
  const other = B.name === 'cpu' ? 'webgpu' : 'cpu';
  const impl = B.name === 'cpu' ? { webgpu: { shader: '/* no cpu kernel */' } } : { cpu: cubeKernel };
  const name = `test_${other}_only`;
  const otherOnly = bt.definePrimitive({ name, impl, nondiff: true });
  let err: unknown;
  try {
    otherOnly([bt.ones([2])]);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof bt.BackendError, `expected BackendError, got ${String(err)}`);
  assert.match((err as Error).message, new RegExp(name));
  assert.match((err as Error).message, new RegExp(B.name));
});

test('definePrimitive validates its spec', () => {
  const isConfig = (e: unknown) => e instanceof bt.ConfigError;
  assert.throws(() => bt.definePrimitive({ name: 'test_no_rules', impl: { cpu: cubeKernel } }), isConfig);
  assert.throws(() => bt.definePrimitive({ name: 'test_cube', impl: { cpu: cubeKernel }, nondiff: true }), isConfig);
  assert.throws(() => bt.definePrimitive({ name: 'test_empty', impl: {}, nondiff: true }), isConfig);
  assert.throws(() => bt.definePrimitive({ name: 'exp', impl: { cpu: cubeKernel }, nondiff: true }), isConfig);
  assert.throws(() => bt.definePrimitive({ name: 'test_extra', impl: { cpu: cubeKernel }, nondiff: true, vjpp: 1 } as never), isConfig);
});

// user ops defined inside a body get the backend's name as a suffix: names are global, and each body runs once per backend

registerAll(backends, 'a nondiff user op passes through every transform with zero derivative', async (B) => {
  const floorOp = bt.definePrimitive({
    name: `test_floor_${B.name}`,
    impl: {
      cpu: ([x]: bt.CpuInput[]) => {
        const d = x!.data as Float64Array;
        return Float64Array.from(d, (v) => Math.floor(v));
      },
      webgpu: { shader: 'out0[i] = floor(in0[i]);' },
    },
    nondiff: true,
  });
  const fl = (x: bt.Tensor) => floorOp([x])[0]!;
  const x = T(B, [0.5, 1.7, -2.2], [3]);
  await close(B, fl(x), [0, 1, -3], 'values', [0, 1e-12], EXACT);
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(z.mul(fl(z))))(x), [0, 1, -3], 'grad: the floor factor is constant', EXACT, EXACT);
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(fl(z)))(x), [0, 0, 0], 'grad of the op alone is zero', EXACT, EXACT);
  await close(B, bt.jvp((z: bt.Tensor) => bt.sum(z.mul(fl(z))), [x], [bt.ones([3], B.dtype)])[1] as bt.Tensor, -2, 'jvp', [1e-14, 0], [ADR, 0]);
  await close(B, bt.vmap(fl)(T(B, [0.5, 1.5, -0.5, 2.5], [2, 2])), [0, 1, -1, 2], 'vmap fallback', EXACT, EXACT);
});

/** f32 bits of a number, for a WGSL kernel's u32 meta words (read back with bitcast<f32>). */
const f32Bits = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0]!;

registerAll(backends, 'a user op with params and a shape rule (row sums), with rules and batching', async (B) => {
  const rowSum = bt.definePrimitive<{ scale: number }>({
    name: `test_rowsum_${B.name}`,
    impl: {
      cpu: ([x], p) => {
        const [m, k] = x!.shape as [number, number];
        const out = new Float64Array(m);
        for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) out[i] += p.scale * x!.data[i * k + j]!;
        return out;
      },
      webgpu: {
        shader: 'var s = 0.0; for (var j = 0u; j < mt[1]; j = j + 1u) { s = s + in0[i * mt[1] + j]; } out0[i] = s * bitcast<f32>(mt[2]);',
        meta: ([x]: { shape: readonly number[] }[], p: { scale: number }) => [x!.shape[1]!, f32Bits(p.scale)],
      },
    },
    shape: ([x]) => {
      if (x!.shape.length !== 2) throw new bt.ShapeError(`test_rowsum: expected a matrix, got rank ${x!.shape.length}`);
      return [{ shape: [x!.shape[0]!], dtype: x!.dtype }];
    },
    jvp: ([x], [t], p) => [t && bt.sum(t, { axis: 1 }).mul(p.scale)],
    vjp: ([ct], [x], _o, p) => [ct && bt.broadcastTo(bt.expandDims(ct, 1), x!.shape).mul(p.scale)],
  });
  const rs = (x: bt.Tensor) => rowSum([x], { scale: 2 })[0]!;
  const x = randn(B, [3, 4], 70);
  await close(B, rs(x), bt.sum(x, { axis: 1 }).mul(2), 'values', [1e-14, 1e-12], AD32);
  // sin(2 Σ x²) varies on a scale of ~0.05 in x here (∂/∂x ≈ 8): the harness's step 1e-2·|x|∞
  // moves the sine by ~0.3 rad, a ~1% truncation error (float64 with that step fails the same
  // way). 1e-3 cuts it 100×; the harness's rounding-noise term grows 10×.
  await dir(B, (z) => bt.sin(rs(z.square())), x, 71, 'rowsum', 1e-3);
  await close(B, bt.vmap(rs)(randn(B, [2, 3, 4], 72)), bt.sum(randn(B, [2, 3, 4], 72), { axis: 2 }).mul(2), 'vmap', [1e-14, 0], AD32);
  assert.throws(() => rs(bt.ones([3])), (e: unknown) => e instanceof bt.ShapeError);
});

registerAll(backends, 'a two-output user op (sin, cos): partial cotangents, vmap fallback, jacobians, grad∘grad', async (B) => {
  const sincos = bt.definePrimitive({
    name: `test_sincos_${B.name}`,
    impl: {
      cpu: ([x]) => [Float64Array.from(x!.data, Math.sin), Float64Array.from(x!.data, Math.cos)],
      webgpu: { shader: 'out0[i] = sin(in0[i]); out1[i] = cos(in0[i]);' },
    },
    shape: ([x]) => [x!, x!],
    jvp: (_x, [t], _p, [sn, cs]) => (t ? [t.mul(cs!), t.mul(sn!).neg()] : [null, null]),
    vjp: ([csn, ccs], _x, [sn, cs]) => {
      let g: bt.Tensor | null = csn ? csn.mul(cs!) : null;
      if (ccs) g = g ? g.sub(ccs.mul(sn!)) : ccs.mul(sn!).neg();
      return [g];
    },
  });
  const x = randn(B, [4], 80);
  const [sn, cs] = sincos([x]);
  // float32: WGSL sin/cos in the user kernel and in bt.sin/bt.cos (same builtins)
  await close(B, sn!, bt.sin(x), 'sin', [1e-15, 1e-12], AD32);
  await close(B, cs!, bt.cos(x), 'cos', [1e-15, 1e-12], AD32);
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(sincos([z])[1]!))(x), bt.sin(x).neg(), 'only the second output used', [1e-15, 0], AD32);
  await dir(B, (z) => sincos([z])[0]!.mul(sincos([z])[1]!.square()), x, 81, 'sincos');
  const [vs, vc] = bt.vmap((z: bt.Tensor) => sincos([z]))(randn(B, [3, 4], 82)) as bt.Tensor[];
  await close(B, vs!, bt.sin(randn(B, [3, 4], 82)), 'vmap sin', [1e-15, 1e-12], AD32);
  await close(B, vc!, bt.cos(randn(B, [3, 4], 82)), 'vmap cos', [1e-15, 1e-12], AD32);
  const both = (z: bt.Tensor) => bt.concat(sincos([z]) as bt.Tensor[]);
  await close(B, bt.jacrev(both)(x), bt.jacfwd(both)(x), 'jacrev vs jacfwd', [1e-15, 0], AD32);
  await close(B, await scalar(bt.grad(bt.grad((z: bt.Tensor) => sincos([z])[0]!))(T(B, [0.3], []))), -Math.sin(toDtype(B, 0.3)), 'd²/dx² sin', [1e-14, 1e-12], AD32);
});

registerAll(backends, 'customVjp / customJvp with pytree arguments and null (zero) cotangents', async (B) => {
  const x = randn(B, [4], 90);
  type P = { a: bt.Tensor; b: bt.Tensor };
  const fv = bt.customVjp(
    (p: P) => p.a.mul(p.b),
    (p: P) => [p.a.mul(p.b), p] as [bt.Tensor, unknown],
    (p: P, ct: bt.Tensor) => [{ a: ct.mul(p.b), b: ct.mul(p.a) }],
  );
  const tol: Tol = [1e-15, 1e-12];
  const gv = bt.grad((p: P) => bt.sum(fv(p)))({ b: x.mul(3), a: x });
  await close(B, gv.a, x.mul(3), 'customVjp d/da', tol, EXACT);
  await close(B, gv.b, x, 'customVjp d/db', tol, EXACT);
  const fj = bt.customJvp(
    (p: P) => p.a.mul(p.b),
    ([p]: [P], [t]: [P]) => [p.a.mul(p.b), t.a.mul(p.b).add(p.a.mul(t.b))] as [bt.Tensor, bt.Tensor],
  );
  const gj = bt.grad((p: P) => bt.sum(fj(p)))({ a: x, b: x.mul(3) });
  await close(B, gj.a, x.mul(3), 'customJvp d/da', tol, EXACT);
  await close(B, gj.b, x, 'customJvp d/db', tol, EXACT);
  await close(B, bt.jvp(fj, [{ a: x, b: x.mul(3) }], [{ a: bt.ones([4], B.dtype), b: bt.zeros([4], B.dtype) }])[1] as bt.Tensor, x.mul(3), 'customJvp jvp', tol, EXACT);
  // bwd may return null for an argument it does not differentiate: a zero gradient
  const half = bt.customVjp(
    (a: bt.Tensor, b: bt.Tensor) => a.mul(b),
    (a: bt.Tensor, b: bt.Tensor) => [a.mul(b), b] as [bt.Tensor, unknown],
    (b: bt.Tensor, ct: bt.Tensor) => [ct.mul(b), null],
  );
  const [ga, gb] = bt.grad((a: bt.Tensor, b: bt.Tensor) => bt.sum(half(a, b)), { argnums: [0, 1] })(x, x.mul(2)) as bt.Tensor[];
  await close(B, ga!, x.mul(2), 'd/da', tol, EXACT);
  await close(B, gb!, bt.zeros([4], B.dtype), 'd/db (null: zero)', [0, 1e-12], EXACT);
  // a bwd with the wrong number of cotangents is a ConfigError
  const bad = bt.customVjp((a: bt.Tensor) => a, (a: bt.Tensor) => [a, null] as [bt.Tensor, unknown], () => [] as bt.Tensor[]);
  assert.throws(() => bt.grad((a: bt.Tensor) => bt.sum(bad(a)))(x), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
