/**
 * Random programs (fixed seed) against eager dispatch, bitwise: chains of elementwise ops over
 * broadcasting shapes, reductions, views, transposes and matmuls, with random values returned.
 * Each program is jitted once and called on three inputs, so the buffer plan (slots shared by
 * values whose lifetimes do not overlap, reused across calls) is exercised as well as the loops.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

type Step = { op: string; a: number; b?: number; axis?: number; keepdims?: boolean };

let state = 12345;
const rand = () => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const UNARY = ['exp', 'sin', 'tanh', 'abs', 'neg', 'sigmoid', 'cos', 'square'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'select'] as const;

function apply(s: Step, vals: bt.Tensor[]): bt.Tensor {
  const a = vals[s.a]!;
  const b = s.b === undefined ? undefined : vals[s.b]!;
  switch (s.op) {
    case 'sum':
    case 'max':
    case 'min':
      return (bt as any)[s.op](a, { axis: s.axis, keepdims: s.keepdims });
    case 'transpose':
      return bt.transpose(a);
    case 'flatten':
      return a.reshape([-1]);
    case 'matmul':
      return bt.matmul(a, b!);
    case 'select':
      // a comparison (int32), a where on it, and a cast back: mixed dtypes inside one loop
      return bt.where(bt.greater(a, b!), a, b!.mul(2)).add(bt.cast(bt.less(a, b!), a.dtype));
    default:
      return b ? (bt as any)[s.op](a, b) : (bt as any)[s.op](a);
  }
}

/** A random valid recipe, checked by running it eagerly once. */
function recipe(inputs: bt.Tensor[], n: number): { steps: Step[]; outs: number[] } {
  const vals = inputs.slice();
  const steps: Step[] = [];
  while (steps.length < n) {
    const r = rand();
    // mostly the newest value, so ops chain into loops (and reductions end them)
    const a = rand() < 0.65 ? vals.length - 1 : Math.floor(rand() * vals.length);
    let s: Step;
    if (r < 0.35) s = { op: pick(UNARY), a };
    else if (r < 0.7) s = { op: pick(BINARY), a, b: Math.floor(rand() * vals.length) };
    else if (r < 0.82) {
      const rank = vals[a]!.ndim;
      if (rank === 0) continue;
      s = { op: pick(['sum', 'max', 'min']), a, axis: Math.floor(rand() * rank), keepdims: rand() < 0.5 };
    } else if (r < 0.88) s = { op: rand() < 0.5 ? 'transpose' : 'flatten', a };
    else s = { op: 'matmul', a, b: Math.floor(rand() * vals.length) };
    try {
      const v = apply(s, vals);
      vals.push(v);
      steps.push(s);
    } catch {
      // shapes do not fit (broadcast or matmul): draw again
    }
  }
  const outs = [vals.length - 1];
  for (let k = 0; k < 2; k++) outs.push(Math.floor(rand() * vals.length));
  return { steps, outs };
}

const same = (a: bt.Tensor, b: bt.Tensor, what: string) => {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) assert.unreachable(`${what}: element ${i}: ${x[i]} vs ${y[i]}`);
};

const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(0.91 * i + seed) * 1.7);
const inputsFor = (seed: number, dtype: 'float64' | 'float32') => [
  bt.tensor(values(12, seed), { dtype }).reshape([3, 4]),
  bt.tensor(values(4, seed + 1), { dtype }),
  bt.tensor(values(3, seed + 2), { dtype }).reshape([3, 1]),
  bt.tensor(values(1, seed + 3), { dtype }).reshape([]),
  bt.tensor(values(16, seed + 4), { dtype }).reshape([4, 4]),
];

test('300 random programs (float64 and float32): jit equals eager bitwise on three calls each', () => {
  for (let p = 0; p < 300; p++) {
    const dtype = p % 3 === 2 ? 'float32' : 'float64';
    bt.tidy(() => {
      const { steps, outs } = recipe(inputsFor(0, dtype), 4 + Math.floor(rand() * 10));
      const f = (...xs: bt.Tensor[]) => {
        const vals = xs.slice();
        for (const s of steps) vals.push(apply(s, vals));
        return outs.map((o) => vals[o]!);
      };
      const jf = bt.jit(f);
      for (let c = 0; c < 3; c++) {
        const ins = inputsFor(10 * c + 1, dtype);
        const got = jf(...ins);
        const want = f(...ins);
        got.forEach((g, k) => same(g, want[k]!, `program ${p} (${JSON.stringify(steps)}) call ${c} output ${k}`));
      }
      jf.clearCache();
      return null;
    });
  }
});

test.run();
