/**
 * The per-sample part of the VI objective: for the epoch's N samples θ_i and simulator keys k_i,
 * the losses ℓ_i = ℓ(θ_i, y, k_i), (pathwise) their gradients J_i = ∇θ ℓ(θ_i, y, k_i), and which
 * samples are finite.
 *
 * `'batched'` evaluates all N in one pass: vmap over the sample axis of the one-sample function
 * (reverse: vmap of valueAndGrad; forward: vmap of the chunked JVPs, so within a sample every
 * tangent of a chunk still shares k_i and hence its random draws). Sample i of the batch computes
 * exactly what sample i of the loop does, so the numbers agree to float rounding. `'loop'` runs
 * the samples one at a time. Under `'auto'` (the default) a loss that cannot run under vmap (it
 * reads a tensor's value on the host, say) falls back to the loop; the loss function is then
 * remembered so later epochs go straight to the loop.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { vmap } from '../../autodiff/batching.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { jvp } from '../../autodiff/forward.js';
import { eye } from '../../autodiff/ops/creation.js';
import { cast, isFinite, mul } from '../../autodiff/ops/elementwise.js';
import { min } from '../../autodiff/ops/reduce.js';
import { concat, reshape, slice, stack } from '../../autodiff/ops/shape.js';
import { stopGradient } from '../../autodiff/ops/special.js';
import { foldIn } from '../../random.js';
import { fmtShape } from '../../shape.js';
import type { DiffMode, LossFn } from './objective.js';

/** 'auto': batched, falling back to the loop for a loss that cannot be vmapped; 'batched': no fallback. */
export type SampleEvaluation = 'auto' | 'batched' | 'loop';

export interface SampleLosses {
  /** ℓ_i, [N] */
  ell: Tensor;
  /** J_i stacked, [N, ...θ shape] (pathwise only) */
  jac?: Tensor;
  /** 1 where ℓ_i (and J_i) are all finite, else 0, [N] (dtype of ℓ) */
  ok: Tensor;
}

export interface SampleRequest<D> {
  loss: LossFn<D>;
  data: D;
  /** θ_i stacked, [N, ...θ shape], without gradient */
  thetas: Tensor;
  /** sample i's simulator key is foldIn(simKey, i) */
  simKey: Tensor;
  pathwise: boolean;
  diffMode: DiffMode;
  jacobianChunkSize?: number;
}

/** The loss at one θ, checked to be a 0-D tensor. */
export function callLoss<D>(loss: LossFn<D>, theta: Tensor, data: D, key: Tensor): Tensor {
  const v = loss(theta, data, key);
  if (!(v instanceof Tensor)) throw new ConfigError(`vi: loss(θ, data, key) must return a Tensor, got ${v === null ? 'null' : typeof v}.`);
  if (v.ndim !== 0) {
    throw new ShapeError(`vi: loss(θ, data, key) must return a scalar (0-D) tensor, got shape ${fmtShape(v.shape)} for θ of shape ${fmtShape(theta.shape)}. Reduce it (e.g. .mean()).`);
  }
  return v;
}

/**
 * ℓ(θ) and ∇θ ℓ(θ) by forward mode: basis tangents pushed `chunkSize` at a time (one batched pass
 * per chunk via vmap over jvp). The function closes over the simulator key, so every tangent of
 * every chunk sees the same random draws.
 */
export function forwardValueAndGrad(g: (theta: Tensor) => Tensor, theta: Tensor, chunkSize?: number): [Tensor, Tensor] {
  const n = theta.size;
  if (n === 0) return [g(theta), theta];
  const k = Math.min(chunkSize ?? n, n);
  const basisAll = eye(n, n, theta.dtype);
  let value: Tensor | undefined;
  const parts: Tensor[] = [];
  for (let s = 0; s < n; s += k) {
    const kk = Math.min(k, n - s);
    const basis = reshape(slice(basisAll, [s], [kk]), [kk, ...theta.shape]);
    if (kk === 1) {
      const [y, dy] = jvp(g, [theta], [reshape(basis, theta.shape)]);
      value ??= y;
      parts.push(reshape(dy, [1]));
    } else {
      const [ys, dys] = vmap((t: Tensor) => jvp(g, [theta], [t]))(basis) as [Tensor, Tensor];
      value ??= reshape(slice(ys, [0], [1]), []);
      parts.push(reshape(dys, [kk]));
    }
  }
  return [value!, reshape(parts.length === 1 ? parts[0]! : concat(parts, 0), theta.shape)];
}

/** ℓ_i and J_i = ∇θ ℓ(θ_i) for one sample, in the chosen mode. */
export function sampleValueAndGrad<D>(loss: LossFn<D>, theta: Tensor, data: D, key: Tensor, diffMode: DiffMode, chunkSize?: number): [Tensor, Tensor] {
  const g = (th: Tensor) => callLoss(loss, th, data, key);
  if (diffMode === 'forward') return forwardValueAndGrad(g, theta, chunkSize);
  return valueAndGrad(g)(theta) as [Tensor, Tensor];
}

/** Losses found not to run under vmap (they then always take the loop). */
const unbatchable = new WeakSet<LossFn<any>>();

/** 1 per row of x [N, ...] whose entries are all finite, else 0 (as a [N] tensor of dtype). */
function rowsFinite(x: Tensor, dtype: Tensor['dtype']): Tensor {
  const n = x.shape[0]!;
  const f = cast(isFinite(x), dtype);
  return x.ndim === 1 ? f : min(reshape(f, [n, x.size / n]), { axis: 1 });
}

function finished(ell: Tensor, jac: Tensor | undefined): SampleLosses {
  const okL = rowsFinite(ell, ell.dtype);
  // a θ with no entries has an empty gradient, which is trivially finite
  return { ell, jac, ok: jac && jac.size > 0 ? mul(okL, rowsFinite(jac, ell.dtype)) : okL };
}

function batched<D>(r: SampleRequest<D>): SampleLosses {
  const n = r.thetas.shape[0]!;
  const keys = stack(Array.from({ length: n }, (_, i) => foldIn(r.simKey, i)), 0);
  if (r.pathwise) {
    const one = (th: Tensor, k: Tensor) => sampleValueAndGrad(r.loss, th, r.data, k, r.diffMode, r.jacobianChunkSize);
    const [ell, jac] = vmap(one)(r.thetas, keys) as [Tensor, Tensor];
    return finished(ell, jac);
  }
  const ell = vmap((th: Tensor, k: Tensor) => callLoss(r.loss, th, r.data, k))(r.thetas, keys) as Tensor;
  return finished(stopGradient(ell), undefined);
}

function loop<D>(r: SampleRequest<D>): SampleLosses {
  const n = r.thetas.shape[0]!;
  const rest = r.thetas.shape.slice(1);
  const ells: Tensor[] = [];
  const jacs: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    const th = reshape(slice(r.thetas, [i], [1]), rest);
    const ki = foldIn(r.simKey, i);
    if (r.pathwise) {
      const [l, j] = sampleValueAndGrad(r.loss, th, r.data, ki, r.diffMode, r.jacobianChunkSize);
      ells.push(l);
      jacs.push(j);
    } else {
      ells.push(stopGradient(callLoss(r.loss, th, r.data, ki)));
    }
  }
  return finished(stack(ells, 0), r.pathwise ? stack(jacs, 0) : undefined);
}

/** ℓ_i, J_i and the finite mask for every sample, batched or one at a time. */
export function sampleLosses<D>(r: SampleRequest<D>, how: SampleEvaluation = 'auto'): SampleLosses {
  if (how === 'batched') return batched(r);
  // one sample: the loop is the same computation without vmap's bookkeeping
  if (how === 'loop' || r.thetas.shape[0] === 1 || unbatchable.has(r.loss)) return loop(r);
  try {
    return tidy(() => batched(r));
  } catch {
    // one sample at a time: if that fails too, its error (the one the loop always gave) is the one
    // reported; if it works, the loss cannot be batched and takes the loop from now on
    const out = loop(r);
    unbatchable.add(r.loss);
    return out;
  }
}
