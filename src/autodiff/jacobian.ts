import { Tensor } from '../tensor.js';
import { ConfigError } from '../errors.js';
import { allocArray } from '../dtype.js';
import { backendOfTensor, fromHost } from './core.js';
import type { Backend } from '../backends/backend.js';
import type { Aval } from './primitive.js';
import { vjp, grad } from './reverse.js';
import { jvp } from './forward.js';
import { vmap } from './batching.js';
import { concat, expandDims, reshape, transpose } from './ops/shape.js';
import { tidy } from '../memory.js';
import { describe } from './ops/util.js';
import { checkKnown } from '../validate.js';

/** Options of `jacrev`, `jacfwd` and `hessian`. */
export interface JacobianOptions {
  /** Basis vectors per batched pass; undefined = all in one pass. Bounds memory. */
  chunkSize?: number;
  /** Which argument to differentiate (default 0). */
  argnums?: number;
}

function checkOptions(op: string, opts: JacobianOptions | undefined): void {
  checkKnown(op, opts, ['chunkSize', 'argnums']);
  const c = opts?.chunkSize;
  if (c !== undefined && (!Number.isInteger(c) || c < 1)) throw new ConfigError(`${op}: chunkSize must be a positive integer or undefined, got ${c}.`);
}

/**
 * Rows start..start+k of the identity, shaped [k, ...shape]. Built from the aval alone (shape and
 * dtype), never from the value, so a Jacobian of a vmapped argument gets the same basis for every
 * row of the batch (vmap ∘ jacfwd / jacrev / hessian).
 */
function basisChunk(like: Aval, backend: Backend, start: number, k: number): Tensor {
  let n = 1;
  for (const d of like.shape) n *= d;
  const d = allocArray(like.dtype, k * n);
  for (let i = 0; i < k; i++) d[i * n + start + i] = 1;
  return fromHost(d, [k, ...like.shape], backend);
}

/** vmap over a chunk of basis vectors; a chunk of one needs no batching machinery. */
function batched(f: (v: Tensor) => Tensor, k: number): (vs: Tensor) => Tensor {
  if (k > 1) return vmap(f);
  return (vs) => expandDims(f(reshape(vs, vs.shape.slice(1))), 0);
}

function argOf(op: string, args: unknown[], argnum: number): Tensor {
  const x = args[argnum];
  if (!(x instanceof Tensor)) {
    throw new ConfigError(`${op}: argument ${argnum} must be a Tensor, got ${describe(x)} (flatten a pytree with bt.tree.ravel first).`);
  }
  return x;
}

function outOf(op: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) throw new ConfigError(`${op}: f must return a Tensor, got ${describe(y)}.`);
  return y;
}

function withArg(args: unknown[], argnum: number, x: Tensor): unknown[] {
  const a = [...args];
  a[argnum] = x;
  return a;
}

/**
 * Reverse-mode Jacobian: pulls back `chunkSize` basis cotangents per pass (vmap over the
 * pullback). Result shape: out.shape ++ in.shape.
 */
export function jacrev(f: (...args: any[]) => Tensor, opts?: JacobianOptions): (...args: any[]) => Tensor {
  checkOptions('jacrev', opts);
  const argnum = opts?.argnums ?? 0;
  return (...args: any[]) =>
    tidy(() => {
      const x = argOf('jacrev', args, argnum);
      const [y, pullback] = vjp((xx: Tensor) => outOf('jacrev', f(...withArg(args, argnum, xx))), x);
      const nOut = y.size;
      const k = Math.min(opts?.chunkSize ?? nOut, Math.max(nOut, 1));
      const pull = batched((ct: Tensor) => pullback(ct)[0] as Tensor, k);
      const chunks: Tensor[] = [];
      const backend = backendOfTensor(x);
      for (let s = 0; s < nOut; s += k) chunks.push(pull(basisChunk(y, backend, s, Math.min(k, nOut - s))));
      const j = chunks.length ? concat(chunks, 0) : fromHost(allocArray(x.dtype, 0), [0, ...x.shape], backend);
      return reshape(j, [...y.shape, ...x.shape]);
    });
}

/**
 * Forward-mode Jacobian: pushes `chunkSize` basis tangents per pass (vmap over jvp), sharing the
 * primal computation within a chunk. Result shape: out.shape ++ in.shape.
 */
export function jacfwd(f: (...args: any[]) => Tensor, opts?: JacobianOptions): (...args: any[]) => Tensor {
  checkOptions('jacfwd', opts);
  const argnum = opts?.argnums ?? 0;
  return (...args: any[]) =>
    tidy(() => {
      const x = argOf('jacfwd', args, argnum);
      const nIn = x.size;
      const k = Math.min(opts?.chunkSize ?? nIn, Math.max(nIn, 1));
      const g = (xx: Tensor) => outOf('jacfwd', f(...withArg(args, argnum, xx)));
      const push = batched((t: Tensor) => jvp(g, [x], [t])[1] as Tensor, k);
      const chunks: Tensor[] = [];
      const backend = backendOfTensor(x);
      for (let s = 0; s < nIn; s += k) chunks.push(push(basisChunk(x, backend, s, Math.min(k, nIn - s))));
      if (chunks.length === 0) {
        const y = g(x);
        return fromHost(allocArray(y.dtype, 0), [...y.shape, ...x.shape], backend);
      }
      const j = concat(chunks, 0); // [nIn, ...out]
      const outShape = j.shape.slice(1);
      const outSize = j.size / Math.max(nIn, 1);
      return reshape(transpose(reshape(j, [nIn, outSize]), [1, 0]), [...outShape, ...x.shape]);
    });
}

/** hessian(f) = jacfwd(jacrev(f)): forward-over-reverse. */
export function hessian(f: (...args: any[]) => Tensor, opts?: JacobianOptions): (...args: any[]) => Tensor {
  checkOptions('hessian', opts);
  return jacfwd(jacrev(f, { argnums: opts?.argnums }), opts);
}

/** Hessian-vector product H(x)·v by forward-over-reverse, without forming H. */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  return tidy(() => jvp(grad(f), [x], [v])[1] as Tensor);
}
