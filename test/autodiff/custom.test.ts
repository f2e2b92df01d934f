/** User derivative rules (customVjp, customJvp) and user primitives (definePrimitive). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, checkDirectional, numericGrad, numericJacobian, randn } from '../helpers.js';

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
const C = bt.tensor([3, -0.5, 0.2, -2]);

test('customVjp under grad uses bwd (clipped-gradient identity)', () => {
  const x = randn([4], 1);
  clipBwdCalls = 0;
  const value = bt.sum(clipGrad(x).mul(C));
  assertClose(value, bt.sum(x.mul(C)), 1e-14, 0, 'primal is f');
  assert.is(clipBwdCalls, 0, 'no bwd outside reverse mode');
  const g = bt.grad((z: bt.Tensor) => bt.sum(clipGrad(z).mul(C)))(x);
  assertClose(g, [1, -0.5, 0.2, -1], 0, 0, 'clipped gradient');
  assert.ok(clipBwdCalls >= 1, 'bwd was called');
});

test('customVjp under jacrev (vmap over the pullback) uses bwd', () => {
  const x = randn([4], 2);
  clipBwdCalls = 0;
  const J = bt.jacrev((z: bt.Tensor) => clipGrad(z).mul(C))(x);
  assert.ok(clipBwdCalls >= 1, 'bwd was called under jacrev');
  assertClose(J, bt.diag(bt.tensor([1, -0.5, 0.2, -1])), 0, 0, 'jacrev');
  for (const chunkSize of [1, 3]) assertClose(bt.jacrev((z: bt.Tensor) => clipGrad(z).mul(C), { chunkSize })(x), J, 0, 0, `jacrev chunk ${chunkSize}`);
});

test('customVjp falls back to f under jvp / jacfwd (bwd not called)', () => {
  const x = randn([4], 3);
  const t = randn([4], 4);
  clipBwdCalls = 0;
  const [y, ty] = bt.jvp((z: bt.Tensor) => clipGrad(z).mul(C), [x], [t]);
  assertClose(y, x.mul(C), 1e-14);
  assertClose(ty, t.mul(C), 1e-14, 0, 'unclipped tangent: the derivative of f');
  assertClose(bt.jacfwd((z: bt.Tensor) => clipGrad(z).mul(C))(x), bt.diag(C), 0, 0, 'jacfwd is the true Jacobian');
  assert.is(clipBwdCalls, 0, 'bwd not used by forward mode');
  // under vmap alone: just f
  assertClose(bt.vmap((z: bt.Tensor) => clipGrad(z).mul(C))(randn([2, 4], 5)), randn([2, 4], 5).mul(C), 1e-14);
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

test('customVjp with a known analytic gradient: grad, jacrev and grad∘grad match numerics', () => {
  const x = randn([3, 5], 10);
  lseBwdCalls = 0;
  const f = (z: bt.Tensor) => bt.sum(lse(z).mul(bt.tensor([1, -2, 0.5])));
  const g = bt.grad(f)(x);
  assert.ok(lseBwdCalls >= 1, 'bwd called under grad');
  assertClose(g, numericGrad(f, x), 1e-6, 1e-9, 'grad vs numeric');
  assertClose(g, bt.softmax(x, { axis: -1 }).mul(bt.tensor([[1], [-2], [0.5]])), 1e-12, 1e-14, 'grad vs softmax');
  lseBwdCalls = 0;
  const J = bt.jacrev(lse)(x);
  assert.ok(lseBwdCalls >= 1, 'bwd called under jacrev');
  assert.equal([...J.shape], [3, 3, 5]);
  assertClose(J, numericJacobian(lse, x), 1e-6, 1e-9, 'jacrev vs numeric');
  assertClose(J, bt.jacfwd(lse)(x), 1e-12, 1e-14, 'jacrev (bwd) vs jacfwd (f)');
  // second order: the bwd is built from differentiable ops, so grad∘grad flows through it
  const v = randn([5], 11);
  const f1 = (z: bt.Tensor) => lse(z);
  const hv = bt.grad((z: bt.Tensor) => bt.sum(bt.grad(f1)(z).mul(v)))(v.mul(0.3));
  const sm = bt.softmax(v.mul(0.3));
  const want = sm.mul(v).sub(sm.mul(bt.sum(sm.mul(v)))); // (diag(s) − s sᵀ) v
  assertClose(hv, want, 1e-12, 1e-14, 'hvp through bwd');
});

test('customVjp with several arguments and a pytree output', () => {
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
  const a = randn([3], 20);
  const b = randn([3], 21);
  const loss = (x: bt.Tensor, y: bt.Tensor) => {
    const o = f(x, y);
    return bt.sum(o.p.square()).add(o.s.mul(3));
  };
  const [ga, gb] = bt.grad(loss, { argnums: [0, 1] })(a, b) as bt.Tensor[];
  assert.ok(calls >= 1);
  assertClose(ga!, a.mul(b).mul(b).mul(2).add(3), 1e-12, 1e-14, 'd/da');
  assertClose(gb!, a.mul(b).mul(a).mul(2), 1e-12, 1e-14, 'd/db');
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

test('customJvp is used by jvp and jacfwd', () => {
  const x = randn([4], 30);
  const t = randn([4], 31);
  spCalls = 0;
  const [y, ty] = bt.jvp(softplusC, [x], [t]);
  assert.ok(spCalls >= 1, 'rule called under jvp');
  assertClose(y, bt.softplus(x), 1e-12, 1e-14);
  assertClose(ty, t.mul(bt.sigmoid(x)), 1e-12, 1e-14);
  spCalls = 0;
  assertClose(bt.jacfwd(softplusC)(x), bt.diag(bt.sigmoid(x)), 1e-12, 1e-14, 'jacfwd');
  assert.ok(spCalls >= 1, 'rule called under jacfwd');
  markedCalls = 0;
  assertClose(bt.jvp(marked, [x], [t])[1] as bt.Tensor, t.mul(bt.cos(x)).mul(2), 1e-12, 1e-14, 'marked rule under jvp');
  assertClose(bt.jacfwd(marked)(x), bt.diag(bt.cos(x).mul(2)), 1e-12, 1e-14, 'marked rule under jacfwd');
  assert.ok(markedCalls >= 2);
});

test('customJvp under grad / jacrev is the transpose of the rule', () => {
  const x = randn([4], 32);
  spCalls = 0;
  const g = bt.grad((z: bt.Tensor) => bt.sum(softplusC(z)))(x);
  assert.ok(spCalls >= 1, 'rule called under grad');
  assertClose(g, bt.sigmoid(x), 1e-12, 1e-14, 'analytic gradient');
  assertClose(g, numericGrad((z) => bt.sum(softplusC(z)), x), 1e-6, 1e-9, 'numeric gradient');
  const w = randn([4], 33);
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(marked(z).mul(w)))(x), bt.cos(x).mul(2).mul(w), 1e-12, 1e-14, 'marked rule under grad');
  assertClose(bt.jacrev(marked)(x), bt.diag(bt.cos(x).mul(2)), 1e-12, 1e-14, 'marked rule under jacrev');
  // under neither: just f
  markedCalls = 0;
  assertClose(marked(x), bt.sin(x), 1e-14);
  assert.is(markedCalls, 0);
});

test('customJvp with two arguments, non-elementwise tangent map, under grad', () => {
  // f(A, x) = tanh(A x); rule: ṫ = sech²(Ax) ⊙ (Ȧ x + A ẋ)
  const f = bt.customJvp(
    (A: bt.Tensor, x: bt.Tensor) => bt.tanh(bt.matmul(A, x)),
    ([A, x]: [bt.Tensor, bt.Tensor], [tA, tx]: [bt.Tensor, bt.Tensor]) => {
      const y = bt.tanh(bt.matmul(A, x));
      const s2 = y.square().neg().add(1);
      return [y, s2.mul(bt.matmul(tA, x).add(bt.matmul(A, tx)))] as [bt.Tensor, bt.Tensor];
    },
  );
  const A = randn([3, 2], 40);
  const x = randn([2, 2], 41);
  const w = randn([3, 2], 42);
  const loss = (a: bt.Tensor, b: bt.Tensor) => bt.sum(f(a, b).mul(w));
  const [gA, gx] = bt.grad(loss, { argnums: [0, 1] })(A, x) as bt.Tensor[];
  assertClose(gA!, numericGrad((a) => loss(a, x), A), 1e-6, 1e-9, 'd/dA');
  assertClose(gx!, numericGrad((b) => loss(A, b), x), 1e-6, 1e-9, 'd/dx');
  checkDirectional((b) => f(A, b), x, 43, 1e-6, 'customJvp directional');
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

const cubeOp = bt.definePrimitive({
  name: 'test_cube',
  impl: { cpu: cubeKernel },
  jvp: ([x], [t]) => [t && t.mul(x!.square()).mul(3)],
  vjp: ([ct], [x]) => [ct && ct.mul(x!.square()).mul(3)],
});
const cube = (x: bt.Tensor) => cubeOp([x])[0]!;

let batchRuleCalls = 0;
const cubeB: bt.UserOp<Record<string, unknown>> = bt.definePrimitive({
  name: 'test_cube_batched',
  impl: { cpu: cubeKernel },
  jvp: ([x], [t]) => [t && t.mul(x!.square()).mul(3)],
  vjp: ([ct], [x]) => [ct && ct.mul(x!.square()).mul(3)],
  batch: ([x]): bt.Tensor[] => {
    batchRuleCalls++;
    return [cubeB([x!])[0]!]; // elementwise: the batched op is the op on the stacked array
  },
});

test('definePrimitive: values, gradient checks (reverse and forward)', () => {
  const x = randn([3, 4], 50);
  assertClose(cube(x), x.mul(x).mul(x), 1e-14);
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(cube(z)))(x), x.square().mul(3), 1e-14);
  checkDirectional(cube, x, 51, 1e-6, 'cube');
  checkDirectional((z) => bt.tanh(cube(bt.matmul(z, z.T))), x.mul(0.5), 52, 1e-6, 'cube in a composite');
  assertClose(bt.jacfwd(cube)(x), bt.jacrev(cube)(x), 1e-14, 0, 'jacfwd vs jacrev');
  const f32 = cube(bt.tensor([1.5, -2], { dtype: 'float32' }));
  assert.is(f32.dtype, 'float32');
  assertClose(f32, [3.375, -8], 0);
});

test('definePrimitive: grad∘grad and third derivatives (rules are written with differentiable ops)', () => {
  for (const x0 of [-1.5, 0.3, 2]) {
    const x = bt.tensor(x0);
    assertClose(bt.grad(bt.grad(cube))(x).item(), 6 * x0, 1e-14, 0, `d²/dx² at ${x0}`);
    assertClose(bt.grad(bt.grad(bt.grad(cube)))(x).item(), 6, 1e-14, 0, `d³/dx³ at ${x0}`);
    const fwd2 = (z: bt.Tensor) => bt.jvp((u: bt.Tensor) => bt.jvp(cube, [u], [bt.tensor(1)])[1] as bt.Tensor, [z], [bt.tensor(1)])[1] as bt.Tensor;
    assertClose(fwd2(x).item(), 6 * x0, 1e-14, 0, `fwd² at ${x0}`);
  }
  const x = randn([5], 53);
  const v = randn([5], 54);
  assertClose(bt.hvp((z: bt.Tensor) => bt.sum(cube(z)), x, v), x.mul(6).mul(v), 1e-13, 0, 'hvp');
});

test('definePrimitive under vmap: the fallback loop and a given batch rule', () => {
  const X = randn([4, 3], 60);
  cubeKernelCalls = 0;
  const y = bt.vmap(cube)(X);
  assertClose(y, X.mul(X).mul(X), 1e-14, 0, 'fallback loop values');
  assert.is(cubeKernelCalls, 4, 'fallback loop runs the kernel once per example');
  batchRuleCalls = 0;
  cubeKernelCalls = 0;
  const yb = bt.vmap((z: bt.Tensor) => cubeB([z])[0]!)(X);
  assertClose(yb, X.mul(X).mul(X), 1e-14, 0, 'batch rule values');
  assert.is(batchRuleCalls, 1, 'batch rule used');
  assert.is(cubeKernelCalls, 1, 'one kernel call over the whole batch');
  // vmap of grad, and jacrev (which vmaps the pullback)
  const pg = bt.vmap(bt.grad((z: bt.Tensor) => bt.sum(cube(z))))(X);
  assertClose(pg, X.square().mul(3), 1e-14, 0, 'vmap(grad)');
  assertClose(bt.jacrev((z: bt.Tensor) => cubeB([z])[0]!)(X.slice([0], [1]).reshape([3])), bt.diag(X.slice([0], [1]).reshape([3]).square().mul(3)), 1e-14, 0, 'jacrev');
  // inAxes 1
  assertClose(bt.vmap(cube, { inAxes: 1 })(X), X.T.mul(X.T).mul(X.T), 1e-14, 0, 'inAxes 1');
});

test('a user op without a kernel for the current backend is a BackendError naming the op', () => {
  const gpuOnly = bt.definePrimitive({ name: 'test_gpu_only', impl: { webgpu: { wgsl: '/* no cpu kernel */' } }, nondiff: true });
  let err: unknown;
  try {
    gpuOnly([bt.ones([2])]);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof bt.BackendError, `expected BackendError, got ${String(err)}`);
  assert.match((err as Error).message, /test_gpu_only/);
  assert.match((err as Error).message, /cpu/);
});

test('definePrimitive validates its spec', () => {
  const isConfig = (e: unknown) => e instanceof bt.ConfigError;
  assert.throws(() => bt.definePrimitive({ name: 'test_no_rules', impl: { cpu: cubeKernel } }), isConfig);
  assert.throws(() => bt.definePrimitive({ name: 'test_cube', impl: { cpu: cubeKernel }, nondiff: true }), isConfig);
  assert.throws(() => bt.definePrimitive({ name: 'test_empty', impl: {}, nondiff: true }), isConfig);
  assert.throws(() => bt.definePrimitive({ name: 'exp', impl: { cpu: cubeKernel }, nondiff: true }), isConfig);
  assert.throws(() => bt.definePrimitive({ name: 'test_extra', impl: { cpu: cubeKernel }, nondiff: true, vjpp: 1 } as never), isConfig);
});

test('a nondiff user op passes through every transform with zero derivative', () => {
  const floorOp = bt.definePrimitive({
    name: 'test_floor',
    impl: {
      cpu: ([x]: bt.CpuInput[]) => {
        const d = x!.data as Float64Array;
        return Float64Array.from(d, (v) => Math.floor(v));
      },
    },
    nondiff: true,
  });
  const fl = (x: bt.Tensor) => floorOp([x])[0]!;
  const x = bt.tensor([0.5, 1.7, -2.2]);
  assertClose(fl(x), [0, 1, -3], 0);
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(z.mul(fl(z))))(x), [0, 1, -3], 0, 0, 'grad: the floor factor is constant');
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(fl(z)))(x), [0, 0, 0], 0, 0, 'grad of the op alone is zero');
  assertClose(bt.jvp((z: bt.Tensor) => bt.sum(z.mul(fl(z))), [x], [bt.ones([3])])[1] as bt.Tensor, -2, 1e-14, 0, 'jvp');
  assertClose(bt.vmap(fl)(bt.tensor([[0.5, 1.5], [-0.5, 2.5]])), [0, 1, -1, 2], 0, 0, 'vmap fallback');
});

test('a user op with params and a shape rule (row sums), with rules and batching', () => {
  const rowSum = bt.definePrimitive<{ scale: number }>({
    name: 'test_rowsum',
    impl: {
      cpu: ([x], p) => {
        const [m, k] = x!.shape as [number, number];
        const out = new Float64Array(m);
        for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) out[i] += p.scale * x!.data[i * k + j]!;
        return out;
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
  const x = randn([3, 4], 70);
  assertClose(rs(x), bt.sum(x, { axis: 1 }).mul(2), 1e-14);
  checkDirectional((z) => bt.sin(rs(z.square())), x, 71, 1e-6, 'rowsum');
  assertClose(bt.vmap(rs)(randn([2, 3, 4], 72)), bt.sum(randn([2, 3, 4], 72), { axis: 2 }).mul(2), 1e-14, 0, 'vmap');
  assert.throws(() => rs(bt.ones([3])), (e: unknown) => e instanceof bt.ShapeError);
});

test('a two-output user op (sin, cos): partial cotangents, vmap fallback, jacobians, grad∘grad', () => {
  const sincos = bt.definePrimitive({
    name: 'test_sincos',
    impl: { cpu: ([x]) => [Float64Array.from(x!.data, Math.sin), Float64Array.from(x!.data, Math.cos)] },
    shape: ([x]) => [x!, x!],
    jvp: (_x, [t], _p, [sn, cs]) => (t ? [t.mul(cs!), t.mul(sn!).neg()] : [null, null]),
    vjp: ([csn, ccs], _x, [sn, cs]) => {
      let g: bt.Tensor | null = csn ? csn.mul(cs!) : null;
      if (ccs) g = g ? g.sub(ccs.mul(sn!)) : ccs.mul(sn!).neg();
      return [g];
    },
  });
  const x = randn([4], 80);
  const [sn, cs] = sincos([x]);
  assertClose(sn!, bt.sin(x), 1e-15);
  assertClose(cs!, bt.cos(x), 1e-15);
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(sincos([z])[1]!))(x), bt.sin(x).neg(), 1e-15, 0, 'only the second output used');
  checkDirectional((z) => sincos([z])[0]!.mul(sincos([z])[1]!.square()), x, 81, 1e-6, 'sincos');
  const [vs, vc] = bt.vmap((z: bt.Tensor) => sincos([z]))(randn([3, 4], 82)) as bt.Tensor[];
  assertClose(vs!, bt.sin(randn([3, 4], 82)), 1e-15);
  assertClose(vc!, bt.cos(randn([3, 4], 82)), 1e-15);
  const both = (z: bt.Tensor) => bt.concat(sincos([z]) as bt.Tensor[]);
  assertClose(bt.jacrev(both)(x), bt.jacfwd(both)(x), 1e-15, 0, 'jacrev vs jacfwd');
  assertClose(bt.grad(bt.grad((z: bt.Tensor) => sincos([z])[0]!))(bt.tensor(0.3)).item(), -Math.sin(0.3), 1e-14);
});

test('customVjp / customJvp with pytree arguments and null (zero) cotangents', () => {
  const x = randn([4], 90);
  type P = { a: bt.Tensor; b: bt.Tensor };
  const fv = bt.customVjp(
    (p: P) => p.a.mul(p.b),
    (p: P) => [p.a.mul(p.b), p] as [bt.Tensor, unknown],
    (p: P, ct: bt.Tensor) => [{ a: ct.mul(p.b), b: ct.mul(p.a) }],
  );
  const gv = bt.grad((p: P) => bt.sum(fv(p)))({ b: x.mul(3), a: x });
  assertClose(gv.a, x.mul(3), 1e-15);
  assertClose(gv.b, x, 1e-15);
  const fj = bt.customJvp(
    (p: P) => p.a.mul(p.b),
    ([p]: [P], [t]: [P]) => [p.a.mul(p.b), t.a.mul(p.b).add(p.a.mul(t.b))] as [bt.Tensor, bt.Tensor],
  );
  const gj = bt.grad((p: P) => bt.sum(fj(p)))({ a: x, b: x.mul(3) });
  assertClose(gj.a, x.mul(3), 1e-15);
  assertClose(gj.b, x, 1e-15);
  assertClose(bt.jvp(fj, [{ a: x, b: x.mul(3) }], [{ a: bt.ones([4]), b: bt.zeros([4]) }])[1] as bt.Tensor, x.mul(3), 1e-15);
  // bwd may return null for an argument it does not differentiate: a zero gradient
  const half = bt.customVjp(
    (a: bt.Tensor, b: bt.Tensor) => a.mul(b),
    (a: bt.Tensor, b: bt.Tensor) => [a.mul(b), b] as [bt.Tensor, unknown],
    (b: bt.Tensor, ct: bt.Tensor) => [ct.mul(b), null],
  );
  const [ga, gb] = bt.grad((a: bt.Tensor, b: bt.Tensor) => bt.sum(half(a, b)), { argnums: [0, 1] })(x, x.mul(2)) as bt.Tensor[];
  assertClose(ga!, x.mul(2), 1e-15);
  assertClose(gb!, bt.zeros([4]), 0);
  // a bwd with the wrong number of cotangents is a ConfigError
  const bad = bt.customVjp((a: bt.Tensor) => a, (a: bt.Tensor) => [a, null] as [bt.Tensor, unknown], () => [] as bt.Tensor[]);
  assert.throws(() => bt.grad((a: bt.Tensor) => bt.sum(bad(a)))(x), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
