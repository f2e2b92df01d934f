/**
 * Property tests of the elementwise primitives: forward values against plain-JS references
 * (with NumPy broadcasting done on the host), and reverse + forward mode against central finite
 * differences in float64 on random shapes (rank 0-3, dims 1-4) and random broadcasting pairs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as bt from '../../src/index.js';
import { assertClose, checkDirectional, hostMap, hostTensor, rng, shapeSize, toHost, type HostArray } from '../helpers.js';

const FC = { seed: 42, numRuns: 20, includeErrorInReport: true };
const VAL_RTOL = 1e-12;
const GRAD_RTOL = 1e-6;

// ---- generators -----------------------------------------------------------------------------

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });

/**
 * Two shapes that broadcast together: from a base shape, each side sets random dims to 1, the
 * second also drops random leading dims, and the pair is swapped at random (so either side, or
 * both at once, may be the one that broadcasts).
 */
const pairArb = fc
  .record({
    base: shapeArb,
    onesA: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    onesB: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    drop: fc.integer({ min: 0, max: 3 }),
    swap: fc.boolean(),
    seed: seedArb,
  })
  .map(({ base, onesA, onesB, drop, swap, seed }) => {
    const a = base.map((d, i) => (onesA[i] ? 1 : d));
    const b = base.map((d, i) => (onesB[i] ? 1 : d)).slice(Math.min(drop, base.length));
    return swap ? { sa: b, sb: a, seed } : { sa: a, sb: b, seed };
  });

/** Host data of a shape: standard normals mapped through `dom` into an op's smooth domain. */
function hostData(shape: number[], seed: number, dom: (z: number) => number = (z) => z): HostArray {
  const r = rng(seed);
  const data = Array.from({ length: shapeSize(shape) }, () => dom(Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())));
  return { data, shape };
}

// smooth domains
const positive = (z: number) => 0.3 + Math.abs(z);
const awayFromZero = (z: number) => (z < 0 ? -1 : 1) * (0.2 + Math.abs(z));
const openUnit = (z: number) => 0.95 * Math.tanh(z);
/** Values on a 1/8 grid shifted by `off`: two such sets with different offsets never tie or come closer than ~0.03. */
const grid = (off: number) => (z: number) => Math.round(z * 8) / 8 + off;

// ---- host references for special functions ------------------------------------------------

/** erf by its Maclaurin series (|x| ≤ 2.5 here: at most ~2 digits of cancellation). */
function erfRef(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-18 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erf⁻¹ by Newton's method on erfRef. */
function erfinvRef(y: number): number {
  let x = 0;
  for (let i = 0; i < 100; i++) {
    const step = (erfRef(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
    x -= step;
    if (Math.abs(step) < 1e-17) break;
  }
  return x;
}

const sigmoidRef = (x: number) => 1 / (1 + Math.exp(-x));
const softplusRef = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

// ---- unary ops --------------------------------------------------------------------------------

interface Unary {
  name: string;
  fn: (x: bt.Tensor) => bt.Tensor;
  ref: (v: number) => number;
  dom?: (z: number) => number;
}

const UNARY: Unary[] = [
  { name: 'neg', fn: bt.neg, ref: (v) => -v },
  { name: 'exp', fn: bt.exp, ref: Math.exp },
  { name: 'log', fn: bt.log, ref: Math.log, dom: positive },
  { name: 'log1p', fn: bt.log1p, ref: Math.log1p, dom: (z) => 0.5 * Math.abs(z) - 0.5 },
  { name: 'expm1', fn: bt.expm1, ref: Math.expm1 },
  { name: 'sqrt', fn: bt.sqrt, ref: Math.sqrt, dom: positive },
  { name: 'rsqrt', fn: bt.rsqrt, ref: (v) => 1 / Math.sqrt(v), dom: positive },
  { name: 'square', fn: bt.square, ref: (v) => v * v },
  { name: 'reciprocal', fn: bt.reciprocal, ref: (v) => 1 / v, dom: awayFromZero },
  { name: 'abs', fn: bt.abs, ref: Math.abs, dom: awayFromZero },
  { name: 'sin', fn: bt.sin, ref: Math.sin },
  { name: 'cos', fn: bt.cos, ref: Math.cos },
  { name: 'tanh', fn: bt.tanh, ref: Math.tanh },
  { name: 'sigmoid', fn: bt.sigmoid, ref: sigmoidRef, dom: (z) => 3 * z },
  { name: 'softplus', fn: bt.softplus, ref: softplusRef, dom: (z) => 3 * z },
  { name: 'logSigmoid', fn: bt.logSigmoid, ref: (v) => -softplusRef(-v), dom: (z) => 3 * z },
  { name: 'relu', fn: bt.relu, ref: (v) => Math.max(v, 0), dom: awayFromZero },
  { name: 'erf', fn: bt.erf, ref: erfRef, dom: (z) => 2.5 * Math.tanh(z) },
  { name: 'erfinv', fn: bt.erfinv, ref: erfinvRef, dom: openUnit },
];

for (const op of UNARY) {
  test(`${op.name}: values match the host reference and JVP/VJP match finite differences`, () => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        bt.tidy(() => {
          const h = hostData(shape, seed, op.dom);
          const x = hostTensor(h);
          const y = op.fn(x);
          assert.equal([...y.shape], shape, `${op.name} shape`);
          assert.is(y.dtype, 'float64');
          assertClose(y, hostMap(op.ref, h).data, VAL_RTOL, 1e-14, `${op.name} value`);
          checkDirectional(op.fn, x, seed, GRAD_RTOL, `${op.name} ${JSON.stringify(shape)}`);
        });
      }),
      FC,
    );
  });
}

test('softplus / logSigmoid / sigmoid are stable for large |x| (values and gradients finite)', () => {
  const x = bt.tensor([-1000, -50, 50, 1000]);
  assertClose(bt.softplus(x), [0, Math.exp(-50), 50 + Math.exp(-50), 1000], 1e-12, 1e-300, 'softplus');
  assertClose(bt.logSigmoid(x), [-1000, -50 - Math.exp(-50), -Math.exp(-50), 0], 1e-12, 1e-300, 'logSigmoid');
  assertClose(bt.sigmoid(x), [0, sigmoidRef(-50), sigmoidRef(50), 1], 1e-12, 1e-300, 'sigmoid');
  const g1 = bt.grad((z: bt.Tensor) => bt.sum(bt.softplus(z)))(x);
  assertClose(g1, [0, sigmoidRef(-50), sigmoidRef(50), 1], 1e-12, 1e-300, 'softplus grad');
  const g2 = bt.grad((z: bt.Tensor) => bt.sum(bt.logSigmoid(z)))(x);
  assertClose(g2, [1, sigmoidRef(50), sigmoidRef(-50), 0], 1e-12, 1e-300, 'logSigmoid grad');
});

test('pow with a constant integer exponent differentiates on negative bases (w.r.t. the base)', () => {
  const x = bt.tensor([-2, -0.5, 1.5]);
  assertClose(bt.pow(x, 3), [-8, -0.125, 3.375], VAL_RTOL, 0, 'pow value');
  const g = bt.grad((z: bt.Tensor) => bt.sum(bt.pow(z, 3)))(x);
  assertClose(g, [12, 0.75, 6.75], VAL_RTOL, 0, 'pow grad');
  const [, t] = bt.jvp((z: bt.Tensor) => bt.pow(z, 2), [x], [bt.ones([3])]);
  assertClose(t as bt.Tensor, [-4, -1, 3], VAL_RTOL, 0, 'pow jvp');
});

// ---- binary ops (broadcasting) ----------------------------------------------------------------

interface Binary {
  name: string;
  fn: (a: bt.Tensor, b: bt.Tensor) => bt.Tensor;
  ref: (a: number, b: number) => number;
  domA?: (z: number) => number;
  domB?: (z: number) => number;
}

const BINARY: Binary[] = [
  { name: 'add', fn: bt.add, ref: (a, b) => a + b },
  { name: 'sub', fn: bt.sub, ref: (a, b) => a - b },
  { name: 'mul', fn: bt.mul, ref: (a, b) => a * b },
  { name: 'div', fn: bt.div, ref: (a, b) => a / b, domB: awayFromZero },
  { name: 'pow', fn: bt.pow, ref: Math.pow, domA: positive, domB: (z) => 1.5 * z },
  { name: 'maximum', fn: bt.maximum, ref: Math.max, domA: grid(0.03), domB: grid(0) },
  { name: 'minimum', fn: bt.minimum, ref: Math.min, domA: grid(0.03), domB: grid(0) },
  { name: 'atan2', fn: bt.atan2, ref: Math.atan2, domA: awayFromZero, domB: awayFromZero },
];

for (const op of BINARY) {
  test(`${op.name}: broadcast values match the host reference and JVP/VJP match finite differences for each argument`, () => {
    fc.assert(
      fc.property(pairArb, ({ sa, sb, seed }) => {
        bt.tidy(() => {
          const ha = hostData(sa, seed, op.domA);
          const hb = hostData(sb, seed + 7, op.domB);
          const a = hostTensor(ha);
          const b = hostTensor(hb);
          const y = op.fn(a, b);
          const ref = hostMap(op.ref, ha, hb);
          assert.equal([...y.shape], ref.shape, `${op.name} shape ${JSON.stringify([sa, sb])}`);
          assertClose(y, ref.data, VAL_RTOL, 1e-14, `${op.name} value`);
          const what = `${op.name} ${JSON.stringify(sa)} ⊕ ${JSON.stringify(sb)}`;
          checkDirectional((x) => op.fn(x, b), a, seed, GRAD_RTOL, `${what} d/da`);
          checkDirectional((x) => op.fn(a, x), b, seed + 1, GRAD_RTOL, `${what} d/db`);
        });
      }),
      FC,
    );
  });
}

test('binary ops accept a JS number on either side (weakly typed scalar)', () => {
  const h = hostData([2, 3], 5, positive);
  const x = hostTensor(h);
  assertClose(bt.sub(2, x), hostMap((v) => 2 - v, h).data, VAL_RTOL, 0, '2 - x');
  assertClose(bt.div(x, 4), hostMap((v) => v / 4, h).data, VAL_RTOL, 0, 'x / 4');
  assertClose(bt.pow(2, x), hostMap((v) => 2 ** v, h).data, VAL_RTOL, 0, '2 ** x');
  checkDirectional((z) => bt.pow(2, z), x, 3, GRAD_RTOL, '2 ** x');
  checkDirectional((z) => bt.div(1.5, z), x, 4, GRAD_RTOL, '1.5 / x');
});

test('maximum/minimum split the derivative evenly at ties', () => {
  const a = bt.tensor([1, 2, 3]);
  const b = bt.tensor([1, 0, 5]);
  const [ga, gb] = bt.grad((x: bt.Tensor, y: bt.Tensor) => bt.sum(bt.maximum(x, y)), { argnums: [0, 1] })(a, b);
  assertClose(ga, [0.5, 1, 0], 0, 0, 'maximum d/da');
  assertClose(gb, [0.5, 0, 1], 0, 0, 'maximum d/db');
  const [ha, hb] = bt.grad((x: bt.Tensor, y: bt.Tensor) => bt.sum(bt.minimum(x, y)), { argnums: [0, 1] })(a, b);
  assertClose(ha, [0.5, 0, 1], 0, 0, 'minimum d/da');
  assertClose(hb, [0.5, 1, 0], 0, 0, 'minimum d/db');
});

// ---- clip and where ---------------------------------------------------------------------------

test('clip: values and derivatives w.r.t. x, lo and hi (broadcast bounds)', () => {
  fc.assert(
    fc.property(pairArb, ({ sa, sb, seed }) => {
      bt.tidy(() => {
        // x on a 1/8 grid + 0.03, bounds on the grid: no ties, never within 0.03 of a kink
        const hx = hostData(sa, seed, grid(0.03));
        const hlo = hostData(sb, seed + 1, (z) => grid(0)(z) - 0.25);
        const hhi = { data: hlo.data.map((v, i) => v + 0.25 + Math.round(4 * Math.abs(Math.sin(i + seed))) / 8), shape: hlo.shape };
        const [x, lo, hi] = [hx, hlo, hhi].map((h) => hostTensor(h)) as [bt.Tensor, bt.Tensor, bt.Tensor];
        const ref = hostMap((v, l, h) => Math.min(Math.max(v, l), h), hx, hlo, hhi);
        assertClose(bt.clip(x, lo, hi), ref.data, VAL_RTOL, 0, 'clip value');
        const what = `clip ${JSON.stringify([sa, sb])}`;
        checkDirectional((z) => bt.clip(z, lo, hi), x, seed, GRAD_RTOL, `${what} d/dx`);
        checkDirectional((z) => bt.clip(x, z, hi), lo, seed + 1, GRAD_RTOL, `${what} d/dlo`);
        checkDirectional((z) => bt.clip(x, lo, z), hi, seed + 2, GRAD_RTOL, `${what} d/dhi`);
        // scalar bounds
        const refS = hostMap((v) => Math.min(Math.max(v, -0.5), 0.75), hx);
        assertClose(bt.clip(x, -0.5, 0.75), refS.data, VAL_RTOL, 0, 'clip scalar bounds');
        checkDirectional((z) => bt.clip(z, -0.5, 0.75), x, seed + 3, GRAD_RTOL, `${what} scalar bounds`);
      });
    }),
    FC,
  );
});

test('where: broadcast values and derivatives w.r.t. both branches (int32 and float conditions)', () => {
  fc.assert(
    fc.property(pairArb, shapeArb, ({ sa, sb, seed }, sc0) => {
      bt.tidy(() => {
        // the condition's shape is a suffix of the broadcast shape with some dims set to 1
        const out = [...hostMap(() => 0, { data: [0], shape: sa }, { data: [0], shape: sb }).shape];
        const sc = out.slice(out.length - Math.min(sc0.length, out.length)).map((d, i) => (sc0[i]! % 2 === 0 ? 1 : d));
        const hc = hostData(sc, seed + 3);
        const ha = hostData(sa, seed);
        const hb = hostData(sb, seed + 1);
        const [c, a, b] = [hc, ha, hb].map((h) => hostTensor(h)) as [bt.Tensor, bt.Tensor, bt.Tensor];
        const cond = bt.greater(c, 0);
        assert.is(cond.dtype, 'int32');
        const ref = hostMap((cv, av, bv) => (cv > 0 ? av : bv), hc, ha, hb);
        const y = bt.where(cond, a, b);
        assert.equal([...y.shape], ref.shape, 'where shape');
        assertClose(y, ref.data, 0, 0, 'where value (int32 condition)');
        const condF = bt.cast(cond, 'float64');
        assertClose(bt.where(condF, a, b), ref.data, 0, 0, 'where value (float condition)');
        const what = `where ${JSON.stringify([sc, sa, sb])}`;
        checkDirectional((z) => bt.where(cond, z, b), a, seed, GRAD_RTOL, `${what} d/da`);
        checkDirectional((z) => bt.where(cond, a, z), b, seed + 1, GRAD_RTOL, `${what} d/db`);
        checkDirectional((z) => bt.where(condF, z, bt.mul(z, 0.5)), a, seed + 2, GRAD_RTOL, `${what} same arg`);
      });
    }),
    FC,
  );
});

// ---- cast ----------------------------------------------------------------------------------------

test('cast float64 <-> float32: values round like Math.fround; derivatives pass through', () => {
  fc.assert(
    fc.property(shapeArb, seedArb, (shape, seed) => {
      bt.tidy(() => {
        const h = hostData(shape, seed);
        const x = hostTensor(h);
        const x32 = bt.cast(x, 'float32');
        assert.is(x32.dtype, 'float32');
        assertClose(x32, h.data.map(Math.fround), 0, 0, 'cast to float32');
        const back = bt.cast(x32, 'float64');
        assert.is(back.dtype, 'float64');
        assertClose(back, h.data.map(Math.fround), 0, 0, 'cast back to float64');
        // f(x) = cast(cast(x, f32) * 3, f64): d/dx = 3 exactly
        const f = (z: bt.Tensor) => bt.cast(bt.mul(bt.cast(z, 'float32'), 3), 'float64');
        const g = bt.grad((z: bt.Tensor) => bt.sum(f(z)))(x);
        assert.is(g.dtype, 'float64');
        assertClose(g, new Array(h.data.length).fill(3), 0, 0, 'grad through cast');
        const t = hostData(shape, seed + 1);
        const [, jt] = bt.jvp(f, [x], [hostTensor(t)]);
        assert.is((jt as bt.Tensor).dtype, 'float64');
        assertClose(jt as bt.Tensor, t.data.map((v) => 3 * Math.fround(v)), 1e-6, 0, 'jvp through cast');
        // the cotangent of a float32 input is float32
        const g32 = bt.grad((z: bt.Tensor) => bt.sum(bt.cast(z, 'float64').mul(2)))(x32);
        assert.is(g32.dtype, 'float32');
        assertClose(g32, new Array(h.data.length).fill(2), 0, 0, 'grad of a float32 input');
      });
    }),
    FC,
  );
});

test('float32 elementwise values agree with the float64 reference to 1e-6', () => {
  fc.assert(
    fc.property(shapeArb, seedArb, (shape, seed) => {
      bt.tidy(() => {
        for (const op of UNARY) {
          const h = hostData(shape, seed, op.dom);
          const h32 = { data: h.data.map(Math.fround), shape };
          const y = op.fn(hostTensor(h32, 'float32'));
          assert.is(y.dtype, 'float32', op.name);
          assertClose(y, hostMap(op.ref, h32).data, 1e-6, 1e-7, `${op.name} float32`);
        }
        const hb = hostData(shape, seed + 1, positive);
        const hb32 = { data: hb.data.map(Math.fround), shape };
        const h32 = { data: hostData(shape, seed).data.map(Math.fround), shape };
        const y = bt.div(hostTensor(h32, 'float32'), hostTensor(hb32, 'float32'));
        assertClose(y, hostMap((a, b) => a / b, h32, hb32).data, 1e-6, 1e-7, 'div float32');
      });
    }),
    FC,
  );
});

test('cast to int32 truncates; no gradient flows through it (zero, no error)', () => {
  const x = bt.tensor([-1.7, -0.2, 0.5, 2.9]);
  const xi = bt.cast(x, 'int32');
  assert.is(xi.dtype, 'int32');
  assert.equal(Array.from(xi.dataSync()), [-1, 0, 0, 2]);
  const g = bt.grad((z: bt.Tensor) => bt.sum(bt.mul(z, bt.cast(bt.cast(z, 'int32'), 'float64'))))(x);
  assertClose(g, [-1, 0, 0, 2], 0, 0, 'grad with an int32 detour');
});

// ---- non-differentiable ops ------------------------------------------------------------------

test('comparisons give int32 0/1 with broadcasting; isFinite/isNan too', () => {
  fc.assert(
    fc.property(pairArb, ({ sa, sb, seed }) => {
      bt.tidy(() => {
        const ha = hostData(sa, seed, grid(0));
        const hb = hostData(sb, seed + 1, grid(0)); // same grid: ties happen
        const a = hostTensor(ha);
        const b = hostTensor(hb);
        const cases: [string, (x: bt.Tensor, y: bt.Tensor) => bt.Tensor, (x: number, y: number) => boolean][] = [
          ['equal', bt.equal, (x, y) => x === y],
          ['notEqual', bt.notEqual, (x, y) => x !== y],
          ['less', bt.less, (x, y) => x < y],
          ['lessEqual', bt.lessEqual, (x, y) => x <= y],
          ['greater', bt.greater, (x, y) => x > y],
          ['greaterEqual', bt.greaterEqual, (x, y) => x >= y],
        ];
        for (const [name, fn, ref] of cases) {
          const y = fn(a, b);
          assert.is(y.dtype, 'int32', name);
          const r = hostMap((x, z) => (ref(x, z) ? 1 : 0), ha, hb);
          assert.equal([...y.shape], r.shape, `${name} shape`);
          assert.equal(Array.from(y.dataSync()), r.data, name);
        }
      });
    }),
    FC,
  );
  const z = bt.tensor([1, Infinity, -Infinity, NaN]);
  assert.equal(Array.from(bt.isFinite(z).dataSync()), [1, 0, 0, 0]);
  assert.equal(Array.from(bt.isNan(z).dataSync()), [0, 0, 0, 1]);
  assert.is(bt.isFinite(z).dtype, 'int32');
});

test('sign/floor/ceil/round: values, and zero gradients through grad and jvp without errors', () => {
  const x = bt.tensor([-2.5, -0.7, 0, 0.3, 1.5, 2.5]);
  const cases: [string, (t: bt.Tensor) => bt.Tensor, (v: number) => number][] = [
    ['sign', bt.sign, (v) => Math.sign(v)],
    ['floor', bt.floor, Math.floor],
    ['ceil', bt.ceil, Math.ceil],
  ];
  for (const [name, fn, ref] of cases) {
    const y = fn(x);
    assert.is(y.dtype, 'float64', name);
    assertClose(y, toHost(x).data.map(ref), 0, 0, name);
    const g = bt.grad((t: bt.Tensor) => bt.sum(fn(t)))(x);
    assertClose(g, new Array(6).fill(0), 0, 0, `${name} grad`);
    const [, jt] = bt.jvp(fn, [x], [bt.onesLike(x)]);
    assertClose(jt as bt.Tensor, new Array(6).fill(0), 0, 0, `${name} jvp`);
    // mixed: the differentiable path still gets its gradient
    const g2 = bt.grad((t: bt.Tensor) => bt.sum(bt.mul(t, fn(t))))(x);
    assertClose(g2, toHost(x).data.map(ref), 0, 0, `${name} mixed grad`);
  }
  // round: half away from zero or to even are both common; check only the non-half entries
  const r = bt.round(bt.tensor([-0.7, 0.3, 1.2, 2.8]));
  assertClose(r, [-1, 0, 1, 3], 0, 0, 'round');
  const gr = bt.grad((t: bt.Tensor) => bt.sum(bt.round(t)))(x);
  assertClose(gr, new Array(6).fill(0), 0, 0, 'round grad');
  // comparisons inside a differentiated function
  const gm = bt.grad((t: bt.Tensor) => bt.sum(bt.mul(t, bt.cast(bt.greater(t, 0), 'float64'))))(x);
  assertClose(gm, [0, 0, 0, 1, 1, 1], 0, 0, 'grad of x * (x > 0)');
});

// ---- second order ------------------------------------------------------------------------------

test('grad of grad of unary ops matches the known second derivatives (and forward-over-reverse agrees)', () => {
  const cases: [string, (x: bt.Tensor) => bt.Tensor, (v: number) => number, ((z: number) => number)?][] = [
    ['tanh', bt.tanh, (v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)],
    ['exp', bt.exp, Math.exp],
    ['log', bt.log, (v) => -1 / (v * v), positive],
    ['sin', bt.sin, (v) => -Math.sin(v)],
    ['cos', bt.cos, (v) => -Math.cos(v)],
    ['sqrt', bt.sqrt, (v) => -0.25 * v ** -1.5, positive],
    ['rsqrt', bt.rsqrt, (v) => 0.75 * v ** -2.5, positive],
    ['sigmoid', bt.sigmoid, (v) => sigmoidRef(v) * (1 - sigmoidRef(v)) * (1 - 2 * sigmoidRef(v))],
    ['softplus', bt.softplus, (v) => sigmoidRef(v) * (1 - sigmoidRef(v))],
    ['erf', bt.erf, (v) => (-4 * v * Math.exp(-v * v)) / Math.sqrt(Math.PI), (z) => 2 * Math.tanh(z)],
    ['log1p', bt.log1p, (v) => -1 / (1 + v) ** 2, (z) => Math.abs(z)],
    ['expm1', bt.expm1, Math.exp],
    ['reciprocal', bt.reciprocal, (v) => 2 / v ** 3, awayFromZero],
    ['atan2(x, 1.3)', (x) => bt.atan2(x, 1.3), (v) => (-2 * 1.3 * v) / (v * v + 1.69) ** 2],
    ['pow(x, 2.5)', (x) => bt.pow(x, 2.5), (v) => 2.5 * 1.5 * v ** 0.5, positive],
  ];
  for (const [name, f, d2, dom] of cases) {
    const h = hostData([7], 11, dom);
    const x = hostTensor(h);
    const df = (z: bt.Tensor) => bt.grad((t: bt.Tensor) => bt.sum(f(t)))(z);
    const g2 = bt.grad((z: bt.Tensor) => bt.sum(df(z)))(x);
    assertClose(g2, h.data.map(d2), 1e-10, 1e-14, `${name}'' (reverse over reverse)`);
    const [, fr] = bt.jvp(df, [x], [bt.onesLike(x)]);
    assertClose(fr as bt.Tensor, h.data.map(d2), 1e-10, 1e-14, `${name}'' (forward over reverse)`);
    const [, ff] = bt.jvp((z: bt.Tensor) => bt.jvp(f, [z], [bt.onesLike(z)])[1] as bt.Tensor, [x], [bt.onesLike(x)]);
    assertClose(ff as bt.Tensor, h.data.map(d2), 1e-10, 1e-14, `${name}'' (forward over forward)`);
  }
});

test('second-order derivatives of binary ops match finite differences of their gradients', () => {
  const ha = hostData([2, 3], 21, positive);
  const hb = hostData([3], 22, awayFromZero);
  const a = hostTensor(ha);
  const b = hostTensor(hb);
  for (const [name, f] of [
    ['mul', bt.mul],
    ['div', bt.div],
    ['pow', bt.pow],
    ['atan2', bt.atan2],
  ] as [string, (x: bt.Tensor, y: bt.Tensor) => bt.Tensor][]) {
    // gradient w.r.t. a, as a function of a and of b
    const ga = (x: bt.Tensor, y: bt.Tensor) => bt.grad((t: bt.Tensor) => bt.sum(bt.mul(f(t, y), bt.sin(t))))(x);
    checkDirectional((x) => ga(x, b), a, 31, GRAD_RTOL, `${name} d²/da²`);
    checkDirectional((y) => ga(a, y), b, 32, GRAD_RTOL, `${name} d²/da db`);
  }
});

test('stopGradient: identity value, zero derivative in grad and jvp, second order too', () => {
  const h = hostData([2, 3], 9);
  const x = hostTensor(h);
  assertClose(bt.stopGradient(x), h.data, 0, 0, 'value');
  const g = bt.grad((z: bt.Tensor) => bt.sum(bt.mul(z, bt.stopGradient(z))))(x);
  assertClose(g, h.data, 0, 0, 'd/dx x·sg(x) = sg(x)');
  const [, t] = bt.jvp((z: bt.Tensor) => bt.stopGradient(z).mul(z), [x], [bt.onesLike(x)]);
  assertClose(t as bt.Tensor, h.data, 0, 0, 'jvp');
  const g2 = bt.grad((z: bt.Tensor) => bt.sum(bt.grad((w: bt.Tensor) => bt.sum(bt.mul(bt.square(w), bt.stopGradient(w))))(z)))(x);
  assertClose(g2, h.data.map((v) => 2 * v), 1e-12, 0, 'second order');
});

test('float32 gradients (reverse and forward) agree with the float64 gradients at the same points to 1e-6', () => {
  fc.assert(
    fc.property(shapeArb, seedArb, (shape, seed) => {
      bt.tidy(() => {
        for (const op of UNARY) {
          const h = hostData(shape, seed, op.dom);
          const h32 = { data: h.data.map(Math.fround), shape };
          const f = (z: bt.Tensor) => bt.sum(op.fn(z));
          const g64 = bt.grad(f)(hostTensor(h32));
          const x32 = hostTensor(h32, 'float32');
          const g32 = bt.grad(f)(x32);
          assert.is(g32.dtype, 'float32', op.name);
          // float32 rounding of intermediate values (e.g. 1 − tanh² near |tanh| = 1) is absolute, ~1e-7
          assertClose(g32, g64, 1e-6, 1e-6, `${op.name} float32 grad`);
          const [, t32] = bt.jvp(op.fn, [x32], [bt.onesLike(x32)]);
          assert.is((t32 as bt.Tensor).dtype, 'float32', op.name);
          assertClose(t32 as bt.Tensor, g64, 1e-6, 1e-6, `${op.name} float32 jvp`);
        }
      });
    }),
    { ...FC, numRuns: 5 },
  );
});

test('relu at ±Infinity and negatives: 0 (not NaN or −0) below zero; gradient 0 there, 1 above', () => {
  const x = bt.tensor([-Infinity, -1, 0, 2, Infinity]);
  const y = Array.from(bt.relu(x).dataSync(), Number);
  assert.equal(y, [0, 0, 0, 2, Infinity]);
  assert.ok(!Object.is(y[1], -0), 'relu(-1) is +0');
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(bt.relu(z)))(x), [0, 0, 0, 1, 1], 0, 0, 'relu grad');
  const [, t] = bt.jvp(bt.relu, [x], [bt.onesLike(x)]);
  assertClose(t as bt.Tensor, [0, 0, 0, 1, 1], 0, 0, 'relu jvp');
  assert.is(bt.relu(bt.tensor([-3, 4], { dtype: 'int32' })).dtype, 'int32');
  assert.equal(Array.from(bt.relu(bt.tensor([-3, 4], { dtype: 'int32' })).dataSync()), [0, 4]);
});

test.run();
