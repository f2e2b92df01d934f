import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../src/index.js';

test('tidy frees everything it does not return', () => {
  const before = bt.memory();
  const out = bt.tidy(() => {
    const a = bt.ones([100]);
    const b = a.mul(3).exp();
    return { kept: b.sum(), also: [a.add(1)] };
  });
  const after = bt.memory();
  assert.is(after.numTensors - before.numTensors, 2, 'only the two returned tensors survive');
  assert.is(after.numBytes - before.numBytes, 8 + 800);
  bt.dispose(out);
  assert.equal(bt.memory(), before);
});

test('nested tidy moves returned tensors to the parent scope, keep() exempts', () => {
  const before = bt.memory().numTensors;
  let kept: bt.Tensor | null = null;
  const r = bt.tidy(() => {
    const inner = bt.tidy(() => bt.ones([3]).add(1));
    kept = bt.keep(bt.zeros([2]));
    bt.ones([5]);
    return inner.mul(2);
  });
  assert.is(bt.memory().numTensors - before, 2);
  assert.equal(Array.from(r.dataSync()), [4, 4, 4]);
  r.dispose();
  kept!.dispose();
  assert.is(bt.memory().numTensors, before);
});

test('grad and jacobians leave nothing behind but their results', () => {
  const x = bt.tensor([0.3, -0.2, 0.5]);
  const before = bt.memory().numTensors;
  const f = (v: bt.Tensor) => v.tanh().mul(v).sum();
  const g = bt.grad(f)(x);
  const h = bt.hessian(f)(x);
  const j = bt.jacrev((v: bt.Tensor) => v.sin(), { chunkSize: 2 })(x);
  const hv = bt.hvp(f, x, x);
  assert.is(bt.memory().numTensors - before, 4);
  bt.dispose([g, h, j, hv]);
  assert.is(bt.memory().numTensors, before);
});

test('a 10,000-step gradient-descent loop keeps numTensors flat', () => {
  const target = bt.tensor([1, -2, 3]);
  const loss = (w: bt.Tensor) => w.sub(target).square().sum();
  let w = bt.zeros([3]);
  const counts: number[] = [];
  for (let step = 0; step < 10_000; step++) {
    const next = bt.tidy(() => w.sub(bt.grad(loss)(w).mul(0.01)));
    w.dispose();
    w = next;
    if (step % 1000 === 999) counts.push(bt.memory().numTensors);
  }
  assert.ok(counts.every((c) => c === counts[0]), `numTensors drifted: ${counts.join(', ')}`);
  const got = Array.from(w.dataSync());
  [1, -2, 3].forEach((v, i) => assert.ok(Math.abs(got[i]! - v) < 1e-9, `w[${i}] = ${got[i]}`));
});

test('tape intermediates survive an inner tidy while the tape needs them', () => {
  // tidy inside the differentiated function must not free values the gradient uses
  const f = (x: bt.Tensor) => bt.tidy(() => x.exp().mul(x).sum());
  const x = bt.tensor([0.1, 0.2]);
  const g: bt.Tensor = bt.tidy(() => bt.grad(f)(x));
  const want = [0.1, 0.2].map((v) => Math.exp(v) * (1 + v));
  Array.from(g.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-12));
  // and grad of grad through an inner tidy
  const gg: bt.Tensor = bt.tidy(() => bt.grad((y: bt.Tensor) => bt.grad(f)(y).sum())(x));
  const want2 = [0.1, 0.2].map((v) => Math.exp(v) * (2 + v));
  Array.from(gg.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - want2[i]!) < 1e-12));
});

test('views share storage: reshape allocates no new buffer and disposal is refcounted', () => {
  const x = bt.ones([2, 3]);
  const before = bt.memory();
  const y = x.reshape([6]);
  const mid = bt.memory();
  assert.is(mid.numBuffers, before.numBuffers);
  assert.is(mid.numTensors, before.numTensors + 1);
  x.dispose();
  assert.equal(Array.from(y.dataSync()), [1, 1, 1, 1, 1, 1]);
  y.dispose();
  assert.is(bt.memory().numBuffers, before.numBuffers - 1);
});

test('dataSync returns a copy: writing to it cannot corrupt a tensor', () => {
  const x = bt.tensor([1, 2, 3]);
  const d = x.dataSync();
  d[0] = 100;
  assert.equal(Array.from(x.dataSync()), [1, 2, 3]);
});

test.run();
