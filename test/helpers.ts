/** Shared test utilities: closeness, central finite differences, deterministic random inputs. */
import * as assert from 'uvu/assert';
import * as bt from '../src/index.js';
import { rng } from './seeded.js';

export { rng };

/** Asserts that fn throws an instance of `type` whose message matches `pattern` (`what` names the case in failures). */
export function throwsType(fn: () => unknown, type: new (...a: any[]) => Error, pattern: RegExp, what = ''): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type, `${what}: expected ${type.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern, `${what}: message "${(e as Error).message}"`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

export function randn(shape: number[], seed = 0, dtype: bt.DType = 'float64'): bt.Tensor {
  const r = rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return bt.tensor(data, { shape, dtype });
}

/** A random symmetric positive-definite matrix B Bᵀ/n + I. */
export function randSpd(n: number, seed = 0): bt.Tensor {
  const b = randn([n, n], seed);
  return bt.matmul(b, b.mT).div(n).add(bt.eye(n));
}

export function toFlat(x: bt.Tensor | number[] | number): number[] {
  if (typeof x === 'number') return [x];
  if (Array.isArray(x)) return x;
  return Array.from(x.dataSync());
}

/** |a − b| ≤ atol + rtol·|b| elementwise, with a message naming the worst entry. */
export function assertClose(actual: bt.Tensor | number[] | number, expected: bt.Tensor | number[] | number, rtol = 1e-9, atol = 1e-12, what = ''): void {
  const a = toFlat(actual);
  const b = toFlat(expected);
  assert.is(a.length, b.length, `${what}: length ${a.length} vs ${b.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(b[i]!);
    const err = Math.abs(a[i]! - b[i]!);
    const bad = !(err <= tol) && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!)) && a[i] !== b[i];
    if (bad && err - tol >= worstExcess) {
      worst = i;
      worstExcess = err - tol;
    }
  }
  if (worst >= 0) assert.unreachable(`${what} entry ${worst}: got ${a[worst]}, expected ${b[worst]} (rtol ${rtol}, atol ${atol})`);
}

/** Central finite-difference gradient of a scalar function of one tensor (float64). */
export function numericGrad(f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, eps = 1e-6): bt.Tensor {
  const base = Float64Array.from(x.dataSync());
  const g = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const h = eps * Math.max(1, Math.abs(base[i]!));
    const xp = base.slice();
    xp[i] += h;
    const xm = base.slice();
    xm[i] -= h;
    const fp = bt.tidy(() => f(bt.tensor(xp, { shape: [...x.shape] })).item());
    const fm = bt.tidy(() => f(bt.tensor(xm, { shape: [...x.shape] })).item());
    g[i] = (fp - fm) / (2 * h);
  }
  return bt.tensor(g, { shape: [...x.shape] });
}

/** Central finite-difference Jacobian [out.shape ++ in.shape] of a tensor function (float64). */
export function numericJacobian(f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, eps = 1e-6): bt.Tensor {
  const base = Float64Array.from(x.dataSync());
  const cols: Float64Array[] = [];
  let outShape: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const h = eps * Math.max(1, Math.abs(base[i]!));
    const xp = base.slice();
    xp[i] += h;
    const xm = base.slice();
    xm[i] -= h;
    const yp = bt.tidy(() => f(bt.tensor(xp, { shape: [...x.shape] })));
    const ym = bt.tidy(() => f(bt.tensor(xm, { shape: [...x.shape] })));
    outShape = [...yp.shape];
    const a = yp.dataSync();
    const b = ym.dataSync();
    cols.push(Float64Array.from(a, (v, k) => (v - b[k]!) / (2 * h)));
  }
  const nOut = cols[0]?.length ?? 0;
  const j = new Float64Array(nOut * base.length);
  for (let o = 0; o < nOut; o++) for (let i = 0; i < base.length; i++) j[o * base.length + i] = cols[i]![o]!;
  return bt.tensor(j, { shape: [...outShape, ...x.shape] });
}

/**
 * Checks reverse mode (grad via vjp with a random cotangent) and forward mode (jvp with a random
 * tangent) of f at x against central differences of ⟨ct, f(x + h·t)⟩ — O(1) FD evaluations per
 * direction instead of O(n), so large inputs stay cheap.
 */
export function checkDirectional(f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, seed = 1, rtol = 1e-6, what = ''): void {
  const y = f(x);
  const ct = randn([...y.shape], seed + 100);
  const t = randn([...x.shape], seed + 200);
  const scalar = (z: bt.Tensor) => bt.sum(bt.mul(f(z), ct));
  const h = 1e-6;
  const fd = (scalar(x.add(t.mul(h))).item() - scalar(x.sub(t.mul(h))).item()) / (2 * h);
  const [, pb] = bt.vjp(f, x);
  const g = pb(ct)[0] as bt.Tensor;
  const rev = bt.sum(bt.mul(g, t)).item();
  const fwd = bt.sum(bt.mul(bt.jvp(f, [x], [t])[1] as bt.Tensor, ct)).item();
  const scale = Math.max(1e-3, Math.abs(fd));
  assert.ok(Math.abs(rev - fd) <= rtol * scale + 1e-9, `${what} reverse: ${rev} vs finite differences ${fd}`);
  assert.ok(Math.abs(fwd - fd) <= rtol * scale + 1e-9, `${what} forward: ${fwd} vs finite differences ${fd}`);
}

// ---- Host (plain JS) reference implementations for the op property tests ----

/** A plain row-major array with a shape: the host-side reference value of a tensor. */
export interface HostArray {
  data: number[];
  shape: number[];
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export function toHost(t: bt.Tensor): HostArray {
  return { data: Array.from(t.dataSync(), Number), shape: [...t.shape] };
}

export function hostTensor(h: HostArray, dtype: bt.DType = 'float64'): bt.Tensor {
  return bt.tensor(Float64Array.from(h.data), { shape: h.shape, dtype });
}

/** NumPy broadcasting of shapes (host reference; throws on mismatch). */
export function hostBroadcastShapes(...shapes: (readonly number[])[]): number[] {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(r).fill(1);
  for (const s of shapes) {
    s.forEach((d, i) => {
      const j = r - s.length + i;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1 && d !== out[j]) throw new Error(`host broadcast: [${shapes.map((x) => x.join(',')).join('] [')}]`);
    });
  }
  return out;
}

export function unravelIndex(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** Flat index into `shape` of a multi-index of a (possibly larger, broadcast) shape, aligned right. */
export function ravelBroadcastIndex(idx: readonly number[], shape: readonly number[]): number {
  const lead = idx.length - shape.length;
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d]! + (shape[d] === 1 ? 0 : idx[lead + d]!);
  return f;
}

/** Elementwise f over broadcast operands (host reference). */
export function hostMap(f: (...v: number[]) => number, ...xs: HostArray[]): HostArray {
  const shape = hostBroadcastShapes(...xs.map((x) => x.shape));
  const n = shapeSize(shape);
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const idx = unravelIndex(i, shape);
    data[i] = f(...xs.map((x) => x.data[ravelBroadcastIndex(idx, x.shape)]!));
  }
  return { data, shape };
}

/** Applies fn to every 1-D fiber of x along axis; fn returns a fiber of the same length. */
export function hostAlongAxis(x: HostArray, axis: number, fn: (v: number[]) => number[]): HostArray {
  const a = axis < 0 ? axis + x.shape.length : axis;
  const data = x.data.slice();
  const n = x.shape[a]!;
  const inner = shapeSize(x.shape.slice(a + 1));
  const outer = shapeSize(x.shape.slice(0, a));
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const pos = Array.from({ length: n }, (_, k) => (o * n + k) * inner + i);
      const r = fn(pos.map((p) => x.data[p]!));
      pos.forEach((p, k) => (data[p] = r[k]!));
    }
  }
  return { data, shape: [...x.shape] };
}

/** Reduces x over `axes` with fn(values of one group) (host reference). */
export function hostReduce(x: HostArray, axes: readonly number[], keepdims: boolean, fn: (v: number[]) => number): HostArray {
  const ax = axes.map((a) => (a < 0 ? a + x.shape.length : a));
  const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: shapeSize(keptShape) }, () => []);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravelIndex(i, x.shape);
    groups[ravelBroadcastIndex(idx.map((c, d) => (ax.includes(d) ? 0 : c)), keptShape)]!.push(x.data[i]!);
  }
  return { data: groups.map(fn), shape: keepdims ? keptShape : x.shape.filter((_, i) => !ax.includes(i)) };
}

/** Axis permutation (host reference): out.shape[i] = x.shape[perm[i]]. */
export function hostTranspose(x: HostArray, perm: readonly number[]): HostArray {
  const shape = perm.map((p) => x.shape[p]!);
  const data = new Array<number>(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const idx = unravelIndex(i, shape);
    const src = new Array<number>(perm.length);
    perm.forEach((p, k) => (src[p] = idx[k]!));
    data[i] = x.data[ravelBroadcastIndex(src, x.shape)]!;
  }
  return { data, shape };
}

/** Two pytrees are the same bit for bit: same structure, non-tensor leaves equal, tensors of the same shape with Object.is-equal elements (NaN = NaN, 0 ≠ −0). */
export function assertSameTree(a: unknown, b: unknown, what: string): void {
  const [la] = bt.tree.flatten(a as never);
  const [lb] = bt.tree.flatten(b as never);
  assert.is(la.length, lb.length, `${what}: leaves`);
  la.forEach((x, i) => {
    const y = lb[i];
    if (!(x instanceof bt.Tensor)) return assert.equal(x, y, `${what}: leaf ${i}`);
    const u = x.dataSync();
    const v = (y as bt.Tensor).dataSync();
    assert.equal(x.shape, (y as bt.Tensor).shape, `${what}: leaf ${i} shape`);
    for (let j = 0; j < u.length; j++) if (!Object.is(u[j], v[j])) assert.unreachable(`${what}: leaf ${i} element ${j}: ${u[j]} vs ${v[j]}`);
  });
}
