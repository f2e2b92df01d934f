/**
 * Elementwise fusion on WebGPU: the same values as one kernel per op (the `fuse: false` backend)
 * and as the CPU in float32, for chains with broadcasting, shared subexpressions, int32 results,
 * where/cast, chains longer than one kernel takes and more inputs than one kernel can bind; and
 * the point of it: fewer dispatches, nothing computed for results nobody keeps. Where a compiler
 * may contract a·b + c inside a fused kernel, or a chain divides, all three are checked against the
 * exact value within the bounds of test/f32-bound.ts (what WGSL allows), not against each other.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { createWebGPUBackend, type WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { webgpuOrSkip } from './setup.js';
import { assertWithin, bounds, type Arith, type Bounded } from '../f32-bound.js';
import * as models from './fusion-models.js';
import { values, type Inputs } from './fusion-models.js';

const gpu = await webgpuOrSkip('fusion');

const EPS32 = 2 ** -23;

if (gpu) {
  const fused = gpu;
  assert.ok(fused.fuse, 'fusion is on by default');
  const plain: WebGPUBackend = await createWebGPUBackend({ fuse: false });
  bt.registerBackend('webgpu-unfused', plain);

  /** f on `backend` over tensors made there from `inputs`; the flat results. */
  async function runOn(backend: string, inputs: Inputs, f: (x: Record<string, bt.Tensor>) => bt.Tensor | bt.Tensor[]): Promise<{ data: number[][]; dtypes: string[] }> {
    const outs = bt.withBackend(backend, () =>
      bt.tidy(() => {
        const xs = Object.fromEntries(Object.entries(inputs).map(([k, { v, shape }]) => [k, bt.tensor(v, { shape })]));
        const o = f(xs);
        return Array.isArray(o) ? o : [o];
      }),
    );
    const data = await Promise.all(outs.map(async (t) => Array.from(await t.data(), Number)));
    const dtypes = outs.map((t) => t.dtype);
    bt.dispose(outs);
    return { data, dtypes };
  }

  /**
   * fused == unfused up to `ulps` float32 ulps of the result, and == CPU float32 within rtol: for
   * chains without a product added to a term that may cancel it, and without a division (those go
   * through checkBounded).
   */
  async function check(what: string, inputs: Inputs, f: (x: Record<string, bt.Tensor>) => bt.Tensor | bt.Tensor[], ulps: number, rtol: number) {
    const a = await runOn('webgpu', inputs, f);
    const b = await runOn('webgpu-unfused', inputs, f);
    const c = await runOn('cpu', inputs, f);
    assert.equal(a.dtypes, b.dtypes, `${what}: dtypes`);
    a.data.forEach((got, o) => {
      const want = b.data[o]!;
      const cpu = c.data[o]!;
      assert.is(got.length, want.length);
      for (let i = 0; i < got.length; i++) {
        const g = got[i]!;
        const w = want[i]!;
        const same = Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)) || Math.abs(g - w) <= ulps * EPS32 * Math.max(Math.abs(w), 1e-30);
        assert.ok(same, `${what} output ${o}[${i}]: fused ${g} vs one kernel per op ${w}`);
        const near = Number.isNaN(cpu[i]!) ? Number.isNaN(g) : g === cpu[i] || Math.abs(g - cpu[i]!) <= rtol * Math.abs(cpu[i]!) + 1e-6;
        assert.ok(near, `${what} output ${o}[${i}]: fused ${g} vs CPU float32 ${cpu[i]}`);
      }
    });
  }

  /**
   * Fused, one kernel per op, and the CPU's float32 result, each within the model's bound of the
   * exact value (test/f32-bound.ts): for chains a compiler may contract (a·b + c in one rounding,
   * inside a fused kernel only), where the results differ by ulps of the terms, not of the result,
   * or that divide (2.5 ulp on a GPU). `model` is the expression, op for op (fusion-models.ts).
   */
  async function checkBounded(what: string, inputs: Inputs, f: (x: Record<string, bt.Tensor>) => bt.Tensor | bt.Tensor[], model: (A: Arith<Bounded>, x: Inputs) => Bounded[][]) {
    const want = model(bounds, inputs);
    for (const [backend, label] of [['webgpu', 'fused'], ['webgpu-unfused', 'one kernel per op'], ['cpu', 'CPU float32']] as const) {
      const got = await runOn(backend, inputs, f);
      assert.is(got.data.length, want.length, `${what}: outputs`);
      got.data.forEach((o, k) => assertWithin(o, want[k]!, `${what} output ${k} (${label})`));
    }
  }

  test('chains with broadcasting, scalars, shared subexpressions: fused == one kernel per op == CPU', async () => {
    const inputs = models.chainInputs();
    await checkBounded('mlp-like', inputs, ({ x, row, col }) => bt.tanh(x.mul(col).add(row)), models.mlpLike);
    await checkBounded('shared subexpression', inputs, ({ x, row }) => {
      const z = bt.sin(x.add(row));
      return z.mul(z).add(bt.exp(z.neg())).sub(z);
    }, models.sharedSubexpression);
    await checkBounded('scalar tensor and number operands', inputs, ({ x, s }) => bt.sqrt(x.square().add(1)).mul(s).div(3).sub(0.25), models.scalarOperands);
    await check('several outputs sharing a lazy input', inputs, ({ x, row }) => {
      const u = x.sub(row);
      return [bt.exp(u), u.mul(2), bt.log1p(u.square())];
    }, 4, 1e-5);
    await checkBounded('backward of tanh: (1 - y²)·g', inputs, ({ x, row }) => {
      const y = bt.tanh(x);
      return bt.sub(1, y.square()).mul(row);
    }, models.tanhBackward);
  });

  test('int32 results, where and cast inside a chain; NaN and inf flow through', async () => {
    const v = values(30, 5);
    v[3] = NaN;
    v[7] = Infinity;
    v[8] = -Infinity;
    const inputs: Inputs = { x: { v, shape: [5, 6] }, k: { v: Int32Array.from({ length: 6 }, (_, i) => i - 2), shape: [6] } };
    await check('comparisons and where', inputs, ({ x }) => {
      const pos = bt.greater(x, 0);
      return [pos, bt.where(pos, x.mul(2), bt.exp(x)), bt.isNan(x.add(1)), bt.isFinite(x.mul(x))];
    }, 4, 1e-5);
    await check('int arithmetic and casts', inputs, ({ x, k }) => {
      const i = k.mul(3).sub(1);
      return [i, i.astype('float32').mul(x), bt.floor(x.mul(3)).astype('int32').add(k)];
    }, 4, 1e-5);
    await check('maximum / minimum / pow / atan2', inputs, ({ x, k }) => {
      const kf = k.astype('float32');
      return [bt.maximum(x, kf).sub(bt.minimum(x, 0.5)), bt.pow(bt.abs(x).add(0.5), kf), bt.atan2(x, kf.add(0.5))];
    }, 8, 1e-5);
  });

  test('a lazy value read through a reshape (same size, another shape) with broadcast leaves inside', async () => {
    const inputs: Inputs = { b: { v: values(6, 12), shape: [2, 3] }, z: { v: values(18, 13), shape: [3, 2, 3] }, r: { v: values(6, 14), shape: [6] } };
    await check('[2,3] + [3,2,3] read as [3,6]', inputs, ({ b, z, r }) => bt.add(b, z).reshape([3, 6]).mul(r), 4, 1e-5);
    await check('[2,3] + [3,2,3] read as [9,2]', inputs, ({ b, z }) => bt.add(b, z).reshape([9, 2]).mul(2), 4, 1e-5);
    await check('leading ones: [1,2,3] lazy read as [2,3]', inputs, ({ b }) => bt.exp(b.reshape([1, 2, 3])).reshape([2, 3]).add(b), 4, 1e-5);
  });

  test('broadcastTo inside chains: of a computed tensor, of a lazy one, to a same-size shape, int32', async () => {
    const inputs = models.broadcastInputs();
    await checkBounded('broadcast a computed row', inputs, ({ x, c }) => bt.broadcastTo(c, [4, 2, 3]).mul(x).add(1), models.broadcastRow);
    await check('broadcast a lazy row (computed first)', inputs, ({ x, c }) => bt.broadcastTo(bt.exp(c), [2, 3]).sub(x), 4, 1e-5);
    await check('same-size broadcast of a lazy value', inputs, ({ x }) => bt.broadcastTo(bt.sin(x), [1, 2, 3]).mul(2), 4, 1e-5);
    await check('int32', inputs, ({ k }) => bt.broadcastTo(k.mul(2), [2, 3]).add(k), 0, 0);
    await check('grad of a mean (its backward broadcasts the cotangent)', inputs, ({ x }) => bt.grad((z: bt.Tensor) => bt.mean(bt.square(z.sub(0.5))))(x), 4, 1e-5);
  });

  test('a chain longer than one kernel takes, and more inputs than one kernel can bind', async () => {
    const inputs: Inputs = { x: { v: values(64, 6, -0.5, 0.5), shape: [64] } };
    // 300 ops: split into kernels of at most MAX_FUSED_NODES nodes
    await check('300-op chain', inputs, ({ x }) => {
      let y = x;
      for (let i = 0; i < 100; i++) y = bt.sin(y.mul(1.01).add(0.001));
      return y;
    }, 64, 1e-4);
    // sixteen distinct buffers in one expression: over the device's storage-buffer limit for one kernel
    await checkBounded('16 inputs', models.sixteenInputs(), (xs) => Object.values(xs).reduce((acc, t, i) => acc.add(t.mul(i + 1))), models.sixteen);
  });

  test('an input used twice past the node budget (inlined once, computed for the second use)', async () => {
    const inputs = models.squarePlusInputs();
    for (const len of [20, 30, 40]) {
      await checkBounded(`y·y + y, y a ${len}-op chain`, inputs, ({ x }) => {
        // y's chain starts from a computed buffer that only y's expression still holds
        const y = bt.tidy(() => {
          let c = bt.cumsum(x, { axis: 0 });
          for (let i = 0; i < len; i++) c = c.mul(0.99).add(0.01);
          return c;
        });
        return y.mul(y).add(y).mul(1.5);
      }, (A, x) => models.squarePlusChain(A, x, len));
    }
    await gpu.sync(); // a buffer bound for reading and writing at once is a validation error, reported here
  });

  test('gradients through fused chains equal the unfused ones', async () => {
    await checkBounded('grad', models.gradInputs(), ({ x, w }) => {
      const f = (z: bt.Tensor) => bt.sum(bt.sigmoid(bt.tanh(z.mul(w)).add(z.square().mul(0.1))));
      const [v, g] = bt.valueAndGrad(f)(x) as [bt.Tensor, bt.Tensor];
      return [v, g, bt.hvp(f, x, w.broadcastTo([3, 4]))];
    }, models.grad);
  });

  test('fewer dispatches: a chain is one kernel; a value nobody keeps is never computed; MLP step', async () => {
    await gpu.sync();
    const x = bt.withBackend('webgpu', () => bt.tensor(values(1000, 9), { shape: [1000] }));
    const d0 = gpu.stats.dispatches;
    // outside any tidy scope: nothing runs until the value is needed
    const chain = bt.withBackend('webgpu', () => {
      const a = x.mul(0.5);
      const b = a.add(1);
      const c = bt.exp(b);
      const e = c.sub(x);
      return [a, b, c, e, e.square()];
    });
    const y = chain[4]!;
    assert.is(gpu.stats.dispatches, d0, 'nothing dispatched yet');
    const reading = y.data(); // forces y (synchronously, before the read's first await)
    assert.is(gpu.stats.dispatches, d0 + 1, 'five ops, one kernel');
    bt.dispose(chain.slice(0, 4)); // intermediates disposed in the same turn: never computed
    await reading;
    await gpu.sync();
    assert.is(gpu.stats.dispatches, d0 + 1, 'still one kernel');
    y.dispose();
    await gpu.sync();
    const d1 = gpu.stats.dispatches;
    bt.withBackend('webgpu', () => bt.tidy(() => void bt.exp(x.mul(3))));
    await gpu.sync();
    assert.is(gpu.stats.dispatches, d1, 'disposed at the end of its scope: never computed');
    // what an outermost tidy scope returns is computed as the scope ends (one kernel for the chain)
    const kept = bt.withBackend('webgpu', () => bt.tidy(() => bt.cos(x.add(2)).mul(3)));
    assert.is(gpu.stats.dispatches, d1 + 1, 'computed as the outermost scope ends');
    await gpu.sync();
    assert.is(gpu.stats.dispatches, d1 + 1, 'and only once');
    kept.dispose();
    x.dispose();

    // the bench's MLP value+grad step (32-128-128-2, batch 256)
    const sizes = [32, 128, 128, 2];
    const mlpDispatches = async (backend: string, stats: WebGPUBackend['stats']) => {
      const ps: bt.Tensor[] = [];
      const { X, Y } = bt.withBackend(backend, () => {
        for (let l = 0; l < 3; l++) ps.push(bt.tensor(values(sizes[l]! * sizes[l + 1]!, 10 + l, -0.3, 0.3), { shape: [sizes[l]!, sizes[l + 1]!] }), bt.tensor(values(sizes[l + 1]!, 20 + l, -0.1, 0.1), { shape: [sizes[l + 1]!] }));
        return { X: bt.tensor(values(256 * 32, 30), { shape: [256, 32] }), Y: bt.tensor(values(512, 31), { shape: [256, 2] }) };
      });
      const loss = (p: bt.Tensor[]) => {
        let h = X;
        for (let l = 0; l < 3; l++) {
          const z = bt.add(bt.matmul(h, p[2 * l]!), p[2 * l + 1]!);
          h = l < 2 ? bt.tanh(z) : z;
        }
        return bt.mean(bt.square(bt.sub(h, Y)));
      };
      const step = () => bt.withBackend(backend, () => bt.tidy(() => bt.valueAndGrad(loss)(ps) as [bt.Tensor, bt.Tensor[]]));
      const [v0, g0] = step();
      const lossValue = (await v0.data())[0]!;
      const grads = await Promise.all(g0.map(async (g) => Array.from(await g.data())));
      bt.dispose([v0, g0]);
      const before = stats.dispatches;
      const [v, g] = step();
      await Promise.all([v, ...g].map((t) => t.data()));
      const n = stats.dispatches - before;
      bt.dispose([v, g, ps, X, Y]);
      return { n, lossValue, grads };
    };
    const on = await mlpDispatches('webgpu', gpu.stats);
    const off = await mlpDispatches('webgpu-unfused', plain.stats);
    assert.ok(Math.abs(on.lossValue - off.lossValue) <= 16 * EPS32 * Math.abs(off.lossValue), `loss ${on.lossValue} vs ${off.lossValue}`);
    on.grads.forEach((gr, i) => gr.forEach((v, k) => {
      const w = off.grads[i]![k]!;
      assert.ok(Math.abs(v - w) <= 1e-5 * Math.max(...off.grads[i]!.map(Math.abs)), `grad ${i}[${k}]: ${v} vs ${w}`);
    }));
    console.log(`[note] MLP value+grad step: ${on.n} dispatches fused, ${off.n} one kernel per op`);
    assert.ok(on.n <= 0.75 * off.n, `fused ${on.n} dispatches vs ${off.n}`);
  });

  test('Adam on an MLP: same parameters as one kernel per op, under half the dispatches', async () => {
    const run = async (backend: string, be: WebGPUBackend) => {
      const out = bt.withBackend(backend, () => {
        const net = bt.nn.mlp({ sizes: [3, 32, 32, 2], dtype: 'float32' });
        const X = bt.tensor(values(192, 50), { shape: [64, 3] });
        const Y = bt.tensor(values(128, 51), { shape: [64, 2] });
        let params = net.init(bt.random.key(3));
        const opt = bt.optim.adam({ learningRate: 0.01 });
        let state = opt.init(params);
        const loss = (p: bt.nn.MlpParams) => bt.mean(bt.square(net.apply(p, X).sub(Y)));
        const step = () => {
          const next = bt.tidy(() => {
            const g = bt.grad(loss)(params) as bt.nn.MlpParams;
            const [u, s2] = opt.update(g, state, params);
            return { p: bt.optim.applyUpdates(params, u), s: s2 };
          });
          bt.dispose([params, state]);
          params = next.p;
          state = next.s;
        };
        for (let i = 0; i < 5; i++) step();
        const d0 = be.stats.dispatches;
        for (let i = 0; i < 20; i++) step();
        bt.dispose([X, Y, state]);
        return { params, d0 };
      });
      await be.sync();
      const perStep = (be.stats.dispatches - out.d0) / 20;
      const leaves = bt.tree.leaves(out.params) as bt.Tensor[];
      const data = await Promise.all(leaves.map(async (t) => Array.from(await t.data())));
      bt.dispose(leaves);
      return { perStep, data };
    };
    const on = await run('webgpu', gpu);
    const off = await run('webgpu-unfused', plain);
    on.data.forEach((leaf, i) => leaf.forEach((v, k) => {
      const w = off.data[i]![k]!;
      assert.ok(Math.abs(v - w) <= 1e-4 * Math.max(1, Math.abs(w)), `param ${i}[${k}]: ${v} vs ${w}`);
    }));
    console.log(`[note] Adam step on an MLP: ${on.perStep} dispatches fused, ${off.perStep} one kernel per op`);
    assert.ok(on.perStep <= 0.5 * off.perStep, `fused ${on.perStep} vs ${off.perStep} dispatches per step`);
  });

  test('memory: a long synchronous loop of kept lazy results holds about what it would without fusion', async () => {
    const peak = async (backend: string, be: WebGPUBackend) => {
      await be.sync();
      const m0 = be.memory().numBytes;
      const outs = bt.withBackend(backend, () => {
        const list: bt.Tensor[] = [];
        for (let i = 0; i < 120; i++) {
          list.push(bt.tidy(() => {
            const [a, b, c] = [1, 2, 3].map((k) => bt.random.normal(bt.random.key(i * 3 + k), [128, 128], { dtype: 'float32' }));
            return a!.mul(b!).add(c!);
          }));
        }
        return list;
      });
      const inLoop = be.memory().numBytes - m0; // before the turn ends
      bt.dispose(outs);
      await be.sync();
      return inLoop;
    };
    const fusedPeak = await peak('webgpu', gpu);
    const plainPeak = await peak('webgpu-unfused', plain);
    console.log(`[note] 120 kept a·b + c results of 64 KiB: ${(fusedPeak / 2 ** 20).toFixed(1)} MiB live before the turn ends with fusion, ${(plainPeak / 2 ** 20).toFixed(1)} MiB without`);
    // at most MAX_PENDING_LAZY (32) pending results, each holding three 64 KiB inputs
    assert.ok(fusedPeak <= plainPeak + 32 * 3 * 65536, `fused ${fusedPeak} B vs unfused ${plainPeak} B`);
  });

  test('an elementwise result over the device\'s buffer limit is a BackendError at the call, as without fusion', async () => {
    const max = gpu.device.limits.maxStorageBufferBindingSize;
    if (max > 256 * 2 ** 20) {
      console.log(`[note] maxStorageBufferBindingSize is ${max} B here: the over-limit check is not exercised`);
      return;
    }
    const rows = Math.floor(max / 8) + 16; // [rows, 1] float32 fits; [rows, 2] does not
    const x = bt.withBackend('webgpu', () => bt.zeros([rows, 1], 'float32'));
    assert.throws(() => bt.withBackend('webgpu', () => bt.tidy(() => x.add(bt.zeros([1, 2], 'float32')))), (e: Error) => e instanceof bt.BackendError && /maxStorageBufferBindingSize/.test(e.message));
    x.dispose();
    await gpu.sync();
  });

  test('a synchronous optimizer loop without reads compiles a handful of kernels, not a new one per step', async () => {
    await gpu.sync();
    const loss = (q: { a: bt.Tensor; b: bt.Tensor }) => bt.sum(bt.square(q.a)).add(bt.sum(bt.square(q.b))).mul(0.5);
    const opt = bt.optim.adam({ learningRate: 0.01 });
    let p = bt.withBackend('webgpu', () => ({ a: bt.tensor([1, -2]), b: bt.tensor([[0.5]]) }));
    let st = bt.withBackend('webgpu', () => opt.init(p));
    const p0 = gpu.stats.pipelines;
    bt.withBackend('webgpu', () => {
      for (let i = 0; i < 200; i++) {
        // each step's state is computed when its tidy scope ends, so the next step's expressions
        // do not inline it (they would grow, and take a new kernel shape, every step)
        const next = bt.tidy(() => {
          const [u, s2] = opt.update(bt.grad(loss)(p), st, p);
          return { p: bt.optim.applyUpdates(p, u), st: s2 };
        });
        bt.dispose([p, st]);
        p = next.p;
        st = next.st;
      }
    });
    const a = Array.from(await p.a.data());
    const compiled = gpu.stats.pipelines - p0;
    assert.ok(compiled <= 24, `${compiled} pipelines compiled over 200 steps`);
    // Adam moves each coordinate by about lr per step towards 0: after 200 steps |a| shrank by ~2
    assert.ok(Math.abs(a[0]!) < 1 && Math.abs(a[1]!) < 1, `a = ${a}`);
    bt.dispose([p, st]);
  });

  test('compiled pipelines are bounded: many distinct fused expressions keep at most pipelineCacheSize', async () => {
    const small = await createWebGPUBackend({ pipelineCacheSize: 6 });
    bt.registerBackend('webgpu-small-pipelines', small);
    const ops = [bt.sin, bt.cos, bt.exp, bt.tanh, bt.abs, bt.sigmoid] as const;
    const x = bt.withBackend('webgpu-small-pipelines', () => bt.tensor(values(8, 60), { shape: [8] }));
    for (let i = 0; i < 30; i++) {
      // a different chain each time: i written in base 6 picks the ops
      const y = bt.withBackend('webgpu-small-pipelines', () => bt.tidy(() => {
        let z = x;
        for (let k = i, d = 0; d < 3; d++, k = Math.floor(k / 6)) z = ops[k % 6]!(z).add(1);
        return z;
      }));
      await y.data();
      y.dispose();
      assert.ok(small.memory().pipelines <= 6, `${small.memory().pipelines} shader sources kept`);
    }
    assert.ok(small.stats.pipelines >= 30, 'each chain compiled its own pipeline');
    // an evicted pipeline is compiled again when needed, with the same result
    const again = bt.withBackend('webgpu-small-pipelines', () => bt.tidy(() => bt.sin(x).add(1)));
    const want = bt.withBackend('cpu', () => bt.tidy(() => bt.sin(bt.tensor(values(8, 60))).add(1)));
    const g = await again.data();
    const w = await want.data();
    // sin to ~1 ulp of |sin| ≤ 1, then the rounding of the sum: a few 2^-23 absolute
    g.forEach((v, i) => assert.ok(Math.abs(v - w[i]!) <= 4 * EPS32, `sin(x)+1 [${i}]: ${v} vs ${w[i]}`));
    bt.dispose([x, again, want]);
  });

  test('memory: a lazy value holds its inputs only until it is computed or disposed', async () => {
    await gpu.sync();
    const m0 = gpu.memory().numBytes;
    const a = bt.withBackend('webgpu', () => bt.tensor(values(4096, 40), { shape: [4096] }));
    const b = bt.withBackend('webgpu', () => bt.tidy(() => bt.exp(a.mul(2))));
    a.dispose(); // b still reads a's buffer
    assert.ok(gpu.memory().numBytes >= m0 + 4096 * 4, "a's buffer is alive while b is pending");
    const v = await b.data();
    assert.ok(Math.abs(v[0]! - Math.exp(2 * values(1, 40)[0]!)) <= 1e-5 * v[0]!);
    b.dispose();
    await gpu.sync();
    assert.is(gpu.memory().numBytes, m0, 'everything released');
  });
}

test.run();
