/**
 * mlp: structure, forward values, batching, determinism, gradients vs finite differences.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32, read with
 * `await t.data()`:
 *  - forward values against a host float64 forward pass of the float32 parameters and inputs the
 *    backend holds, within B.adRtol (64 ulps, the harness's allowance for a short op chain) times
 *    a first-order rounding scale propagated through the network: a layer rounds Σ|xᵢ wᵢⱼ| + |bⱼ|
 *    and carries its input's scale through |w|; an activation rounds its own value (for gelu
 *    ½|x|(1 + |erf|), the terms of 1 + erf) and carries its input's scale times |f'|;
 *  - gradients against the harness's host float64 central differences of backend evaluations
 *    (numericJacobian / assertJacobianVsFD).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { assertClose, numericGrad, randn } from '../helpers.js';
import { assertCloseArr, assertJacobianVsFD, backendsUnderTest, numericJacobian, randnB, read, registerAll, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('nn/mlp');

const rn = (B: BackendCase, shape: number[], seed: number) => (B.name === 'cpu' ? randn(shape, seed) : randnB(B, shape, seed));

// ---- host float64 reference forward pass, with its first-order float32 rounding scale ----

/** erf to ~1e-13 absolute (far below float32 rounding): Taylor series below 3, erfc's continued fraction above. */
function erf(x: number): number {
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    let term = ax;
    let s = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      s += add;
      if (Math.abs(add) < 1e-17 * Math.abs(s)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * s;
  } else {
    // erfc by its continued fraction (Lentz), accurate for x ≥ 3
    let f = ax;
    let C = ax;
    let D = 0;
    for (let n = 1; n < 200; n++) {
      const an = n / 2;
      D = ax + an * D;
      D = 1 / D;
      C = ax + an / C;
      const delta = C * D;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = 1 - Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  }
  return x < 0 ? -r : r;
}

const sig = (v: number) => 1 / (1 + Math.exp(-v));
const phi = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);

/** value, |derivative| and own rounding scale of each activation, at a point. */
const HOST_ACT: Record<string, (v: number) => [number, number, number]> = {
  tanh: (v) => { const t = Math.tanh(v); return [t, 1 - t * t, Math.abs(t)]; },
  relu: (v) => [Math.max(v, 0), v > 0 ? 1 : 0, 0],
  leakyRelu: (v) => [v > 0 ? v : 0.01 * v, v > 0 ? 1 : 0.01, 0],
  sigmoid: (v) => { const s = sig(v); return [s, s * (1 - s), s]; },
  softplus: (v) => { const s = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))); return [s, sig(v), s]; },
  gelu: (v) => { const e = erf(v / Math.SQRT2); return [0.5 * v * (1 + e), Math.abs(0.5 * (1 + e) + v * phi(v)), 0.5 * Math.abs(v) * (1 + Math.abs(e))]; },
  double: (v) => [2 * v, 2, 0],
  identity: (v) => [v, 1, 0],
};

interface HostLayer { w: number[]; b: number[]; nIn: number; nOut: number }

/** Host forward pass over rows of x; returns values and rounding scales (absolute, per output). */
function hostMlp(layers: HostLayer[], x: number[], act: string, outAct: string): { v: number[]; s: number[] } {
  const n0 = layers[0]!.nIn;
  const rows = x.length / n0;
  const v: number[] = [];
  const s: number[] = [];
  for (let r = 0; r < rows; r++) {
    let h = x.slice(r * n0, (r + 1) * n0);
    let e = h.map(() => 0);
    layers.forEach((L, li) => {
      const f = HOST_ACT[li < layers.length - 1 ? act : outAct]!;
      const nh: number[] = [];
      const ne: number[] = [];
      for (let j = 0; j < L.nOut; j++) {
        let pre = L.b[j]!;
        let ps = Math.abs(L.b[j]!);
        for (let i = 0; i < L.nIn; i++) {
          pre += h[i]! * L.w[i * L.nOut + j]!;
          ps += Math.abs(h[i]! * L.w[i * L.nOut + j]!) + e[i]! * Math.abs(L.w[i * L.nOut + j]!);
        }
        const [val, d, own] = f(pre);
        nh.push(val);
        ne.push(d * ps + own);
      }
      h = nh;
      e = ne;
    });
    v.push(...h);
    s.push(...e);
  }
  return { v, s };
}

async function hostLayers(p: bt.nn.MlpParams): Promise<HostLayer[]> {
  return Promise.all(p.layers.map(async (l) => ({ w: await read(l.w), b: await read(l.b!), nIn: l.w.shape[0]!, nOut: l.w.shape[1]! })));
}

async function gpuForward(B: BackendCase, got: bt.Tensor, ref: { v: number[]; s: number[] }, what: string): Promise<void> {
  assert.is(got.backend, B.name, `${what}: ran on ${B.name}`);
  assert.is(got.dtype, B.dtype, `${what}: dtype`);
  assertCloseArr(await read(got), ref.v, 0, 0, what, ref.s.map((v) => B.adRtol * v));
}

registerAll(backends, 'params { layers: [{ w, b }] } with w [in, out]; layers drawn from split keys', async (B) => {
  const net = bt.nn.mlp({ sizes: [4, 8, 8, 2] });
  const p = net.init(bt.random.key(0));
  assert.equal(p.layers.map((l) => l.w.shape), [[4, 8], [8, 8], [8, 2]]);
  assert.equal(p.layers.map((l) => l.b!.shape), [[8], [8], [2]]);
  assert.ok(p.layers.every((l) => l.w.dtype === B.dtype && l.w.backend === B.name));
  // deterministic by key, different across keys and across layers
  const w1 = await read(p.layers[1]!.w);
  assert.equal(await read(net.init(bt.random.key(0)).layers[1]!.w), w1);
  assert.not.equal(await read(net.init(bt.random.key(1)).layers[1]!.w), w1);
  const same = bt.nn.mlp({ sizes: [8, 8, 8] }).init(bt.random.key(0));
  assert.not.equal(await read(same.layers[0]!.w), await read(same.layers[1]!.w));
  if (B.name === 'webgpu') {
    // layer i draws from split(key, L)[i]: the WebGPU split and uniform streams are the CPU's float32 ones
    const cpu = bt.withBackend('cpu', () => Array.from(bt.nn.mlp({ sizes: [4, 8, 8, 2], dtype: 'float32' }).init(bt.random.key(0)).layers[1]!.w.dataSync()));
    const a = Math.sqrt(6 / 16);
    assertCloseArr(w1, cpu, 0, 0, 'layers[1].w: webgpu vs cpu float32', cpu.map(() => 2 * a * B.eps));
  }
});

registerAll(backends, 'apply = act(x w₁ + b₁) w₂ + b₂ (+ outputActivation), over any leading batch axes', async (B) => {
  const x = rn(B, [3, 5, 4], 1);
  const xv = await read(x);
  for (const [activation, f] of [
    ['tanh', bt.tanh],
    ['relu', bt.relu],
    ['leakyRelu', (z: bt.Tensor) => bt.where(bt.greater(z, 0), z, z.mul(0.01))],
    ['sigmoid', bt.sigmoid],
    ['softplus', bt.softplus],
    ['gelu', (z: bt.Tensor) => z.mul(0.5).mul(bt.erf(z.div(Math.SQRT2)).add(1))],
  ] as const) {
    const net = bt.nn.mlp({ sizes: [4, 6, 2], activation, outputActivation: 'sigmoid' });
    const p = net.init(bt.random.key(3));
    const [l1, l2] = p.layers;
    const want = bt.sigmoid(bt.matmul(f(bt.matmul(x, l1!.w).add(l1!.b!)), l2!.w).add(l2!.b!));
    const got = net.apply(p, x);
    assert.equal(got.shape, [3, 5, 2]);
    if (B.name === 'cpu') {
      assertClose(got, want, 1e-14, 1e-15, activation);
      continue;
    }
    const ref = hostMlp(await hostLayers(p), xv, activation, 'sigmoid');
    await gpuForward(B, got, ref, `${activation}: mlp.apply`);
    await gpuForward(B, want, ref, `${activation}: the same layers composed by hand`);
  }
  // a custom activation, and no output activation by default
  const net = bt.nn.mlp({ sizes: [4, 2], activation: (z) => z.mul(2) });
  const p = net.init(bt.random.key(0));
  const got = net.apply(p, x);
  const want = bt.matmul(x, p.layers[0]!.w).add(p.layers[0]!.b!);
  if (B.name === 'cpu') {
    assertClose(got, want, 1e-15);
    return;
  }
  const ref = hostMlp(await hostLayers(p), xv, 'double', 'identity');
  await gpuForward(B, got, ref, 'one layer, identity output');
  await gpuForward(B, want, ref, 'x w + b by hand');
  // a deeper net with the custom activation between layers
  const deep = bt.nn.mlp({ sizes: [4, 3, 3, 2], activation: (z) => z.mul(2) });
  const pd = deep.init(bt.random.key(1));
  await gpuForward(B, deep.apply(pd, x), hostMlp(await hostLayers(pd), xv, 'double', 'identity'), 'custom activation between layers');
});

registerAll(backends, 'gelu is exact: x·Φ(x)', async (B) => {
  // Φ(1) = 0.8413447460685429
  const g = bt.nn.gelu(bt.tensor([1, 0, -1]));
  if (B.name === 'cpu') {
    assertClose(g, [0.8413447460685429, 0, -1 + 0.8413447460685429], 1e-15, 1e-16);
    return;
  }
  const pts = [1, 0, -1, 3, -3, 0.1, -5];
  const ref = pts.map((v) => HOST_ACT.gelu!(v));
  await gpuForward(B, bt.nn.gelu(bt.tensor(pts)), { v: ref.map((r) => r[0]), s: ref.map((r) => r[2]) }, 'gelu');
});

test('leakyRelu: x above 0, 0.01·x (or the given slope) below, with that derivative', () => {
  const x = bt.tensor([2, -3, 0.5, -0.25]);
  assertClose(bt.nn.leakyRelu(x), [2, -0.03, 0.5, -0.0025], 1e-15, 0);
  assertClose(bt.nn.leakyRelu(x, 0.2), [2, -0.6, 0.5, -0.05], 1e-15, 0);
  assertClose(bt.grad((v: bt.Tensor) => bt.nn.leakyRelu(v, 0.2).sum())(x), [1, 0.2, 1, 0.2], 0, 0);
  assert.throws(() => bt.nn.leakyRelu(x, Number.NaN), (e: Error) => e instanceof bt.ConfigError && /negativeSlope/.test(e.message));
});

registerAll(backends, 'gradients w.r.t. every parameter leaf match central finite differences', async (B) => {
  for (const activation of ['tanh', 'gelu', 'softplus', 'sigmoid'] as const) {
    const net = bt.nn.mlp({ sizes: [3, 5, 2], activation, init: 'heNormal' });
    const params = net.init(bt.random.key(11));
    const x = rn(B, [7, 3], 5);
    const loss = (p: bt.nn.MlpParams) => bt.sum(bt.square(net.apply(p, x)));
    const g = bt.grad(loss)(params) as bt.nn.MlpParams;
    for (const [i, layer] of params.layers.entries()) {
      for (const k of ['w', 'b'] as const) {
        const f = (v: bt.Tensor) => {
          const layers = params.layers.map((l, j) => (j === i ? { ...l, [k]: v } : l));
          return loss({ layers });
        };
        if (B.name === 'cpu') {
          assertClose(g.layers[i]![k]!, numericGrad(f, layer[k]!), 1e-6, 1e-8, `${activation} layers[${i}].${k}`);
        } else {
          await assertJacobianVsFD(B, g.layers[i]![k]!, await numericJacobian(B, f, layer[k]!), `${activation} layers[${i}].${k}`);
        }
      }
    }
  }
});

registerAll(backends, 'parallel chains: init, apply and grad under vmap over a batch of keys equal each chain on its own', async (B) => {
  const net = bt.nn.mlp({ sizes: [3, 5, 2], activation: 'gelu' });
  const keys = bt.random.split(bt.random.key(3), 4);
  const P = bt.vmap((k: bt.Tensor) => net.init(k))(keys) as bt.nn.MlpParams;
  assert.equal(P.layers.map((l) => l.w.shape), [[4, 3, 5], [4, 5, 2]]);
  const x = rn(B, [6, 3], 9);
  const loss = (p: bt.nn.MlpParams) => bt.sum(bt.square(net.apply(p, x)));
  const Y = await read(bt.vmap((p: bt.nn.MlpParams) => net.apply(p, x))(P) as bt.Tensor);
  const G = bt.vmap(bt.grad(loss))(P) as bt.nn.MlpParams;
  const Gv = await Promise.all(G.layers.flatMap((l) => [read(l.w), read(l.b!)]));
  // the same arithmetic per chain (batched vs one matrix): equal within float rounding of the terms
  const close = (got: number[], want: number[], what: string) => assertCloseArr(got, want, B.adRtol, B.adRtol * Math.max(1, ...want.map(Math.abs)), what);
  for (let c = 0; c < 4; c++) {
    const own = net.init(keys.slice([c], [1]).reshape([2]));
    const pc = bt.tree.map((l: bt.Tensor) => l.slice([c], [1]).reshape(l.shape.slice(1)), P) as bt.nn.MlpParams;
    // the draws are exact functions of each chain's key
    for (let i = 0; i < 2; i++) assert.equal(await read(pc.layers[i]!.w), await read(own.layers[i]!.w), `chain ${c} layers[${i}].w`);
    const y = await read(net.apply(own, x));
    close(Y.slice(c * 12, (c + 1) * 12), y, `chain ${c} apply`);
    const g = bt.grad(loss)(own) as bt.nn.MlpParams;
    const gv = await Promise.all(g.layers.flatMap((l) => [read(l.w), read(l.b!)]));
    gv.forEach((leaf, j) => close(Gv[j]!.slice(c * leaf.length, (c + 1) * leaf.length), leaf, `chain ${c} grad leaf ${j}`));
  }
});

registerAll(backends, 'bad input: sizes, activations, parameter count', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => bt.nn.mlp({ sizes: [3] }), /at least two/],
    [() => bt.nn.mlp({ sizes: [3, 0, 1] }), /positive integers/],
    [() => bt.nn.mlp({ sizes: [3, 1], activation: 'swish' as never }), /unknown activation 'swish'/],
    [() => bt.nn.mlp({ sizes: [3, 1], outputActivation: 'soft' as never }), /unknown outputActivation 'soft'/],
    [() => bt.nn.mlp({ sizes: [3, 1], hidden: 4 } as never), /unknown option 'hidden'/],
  ];
  for (const [f, re] of cases) assert.throws(f, (e: Error) => e instanceof bt.ConfigError && re.test(e.message), re.source);
  const net = bt.nn.mlp({ sizes: [3, 4, 1] });
  const p = net.init(bt.random.key(0));
  assert.throws(() => net.apply({ layers: p.layers.slice(1) }, bt.ones([3])), (e: Error) => e instanceof bt.ConfigError && /2 layers/.test(e.message));
  assert.throws(() => net.apply(p, bt.ones([2, 4])), (e: Error) => e instanceof bt.ShapeError);
});

test.run();
