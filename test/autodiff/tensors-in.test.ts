/** tree.tensorsIn (what the run loop frees and keeps): flatten's Tensor leaves, in its order, without its structure. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { flatten, tensorsIn } from '../../src/autodiff/tree.js';

class Box {
  constructor(readonly t: bt.Tensor) {}
}

test("tensorsIn: flatten's Tensor leaves in flatten's order, through long number arrays, holes, typed arrays and class instances", () => {
  const a = bt.tensor([1, 2]);
  const b = bt.tensor(3);
  const c = bt.tensor([[4]]);
  const d = bt.tensor(5);
  // a sampler-like state: long arrays of numbers with tensors among them; a class instance and a
  // typed array are leaves to flatten, so the tensor inside the Box is not reached by either
  const holey: unknown[] = new Array(5);
  holey[3] = d;
  const tree = { z: [a, { q: b, p: 'label' }], U: Array.from({ length: 10000 }, (_, i) => i / 7), mixed: [1.5, c, -Infinity, null, 'x'], holey, box: new Box(bt.tensor(6)), raw: new Float64Array(3) };
  const expected = flatten(tree)[0].filter((l) => l instanceof bt.Tensor);
  const got = tensorsIn(tree);
  assert.is(got.length, 4);
  assert.is(got.length, expected.length);
  got.forEach((t, i) => assert.is(t, expected[i]));
  assert.equal(tensorsIn([1, 'a', null, undefined, [2, [3]]]), []);
  assert.equal(tensorsIn(a), [a]);
  bt.dispose([a, b, c, d, tree.box.t]);
});

test('tidy keeps a returned tensor inside a long number array, and frees the rest', () => {
  const before = bt.memory().numTensors;
  const out = bt.tidy(() => {
    bt.tensor(1);
    const kept = bt.tensor(2);
    return { U: Array.from({ length: 5000 }, (_, i) => i + 0.5), at: [3, kept] };
  });
  assert.is(bt.memory().numTensors, before + 1);
  assert.is((out.at[1] as bt.Tensor).item(), 2);
  // nothing made inside: the result comes back as it is
  const plain = { U: [1, 2, 3] };
  assert.is(bt.tidy(() => plain), plain);
  assert.is(bt.memory().numTensors, before + 1);
  bt.dispose(out);
});

test.run();
