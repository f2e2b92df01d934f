/**
 * Our engine's side of the engine benchmark, mirroring bench/peers.ts: the same deterministic
 * problems (`matmulProblem`, `mlpProblem`, `jacobianProblem`), the same timing harness
 * (`measure`), and the same `PeerResult` shape (with `check` numbers comparable to the float64
 * references `matmulReference`, `mlpReference`, `jacobianReference`).
 *
 * Every step runs inside `bt.tidy` and forces its result to the host (`dataSync`/`item`), so the
 * timing includes all the work and memory stays flat. The backend is chosen by name (default
 * 'cpu'); an asynchronous backend (webgpu) is readied with `bt.ready` and read with `await data()`.
 */
import * as bt from '../src/index.js';
import {
  jacobianProblem,
  matmulProblem,
  measure,
  MLP_SIZES,
  mlpProblem,
  norm2,
  sumOf,
  type MeasureOptions,
  type PeerResult,
} from './peers.js';

export type FloatDType = 'float32' | 'float64';

const OURS = 'bayestape';

/** Select (and initialise) the backend; returns a label like 'bayestape-cpu'. */
export async function useBackend(name: string): Promise<string> {
  await bt.ready(name);
  bt.setBackend(name);
  return `${OURS}-${name}`;
}

function peerName(): string {
  return `${OURS}-${bt.getBackend()}`;
}

/** Read a tensor to the host: synchronously where the backend can, else awaited. */
async function read(t: bt.Tensor): Promise<ArrayLike<number>> {
  try {
    return t.dataSync();
  } catch {
    return t.data();
  }
}


function t(data: Float64Array, shape: number[], dtype: FloatDType): bt.Tensor {
  return bt.tensor(dtype === 'float64' ? data : Float32Array.from(data), { dtype, shape });
}

/** Tensors made in `fn` outside any step: kept until `release` is called. */
function persistent<T>(fn: () => T): T {
  return bt.keep(bt.tidy(fn));
}

// ---------------------------------------------------------------------------
// Matmul: GFLOP/s = 2 n^3 / t
// ---------------------------------------------------------------------------

export async function oursMatmul(n: number, dtype: FloatDType, opts?: MeasureOptions): Promise<PeerResult> {
  const peer = peerName();
  const variant = `matmul ${n} ${dtype}`;
  const p = matmulProblem(n);
  const [A, B] = persistent(() => [t(p.A, [n, n], dtype), t(p.B, [n, n], dtype)]);
  try {
    const C0 = bt.matmul(A, B);
    const check = [sumOf(await read(C0))];
    C0.dispose();
    const m = await measure(async () => {
      const C = bt.matmul(A, B);
      await read(C); // forces the work (and costs one copy of C, as tfjs' data() does not)
      C.dispose();
    }, opts);
    return { peer, variant, value: (2 * n ** 3) / (m.msPerIter * 1e6), unit: 'GFLOP/s', msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter, check };
  } finally {
    A.dispose();
    B.dispose();
  }
}

// ---------------------------------------------------------------------------
// MLP value-and-grad: steps/s
// ---------------------------------------------------------------------------

export interface OursMlp {
  /** One value+grad step (inside tidy); returns [loss, grads] still alive (caller disposes). */
  step: () => [bt.Tensor, bt.Tensor[]];
  dispose: () => void;
}

/**
 * MLP 32-128-128-2 (tanh), loss = mean((mlp(X) - Y)^2), value and gradient w.r.t. all six
 * parameters, written with bt ops. Exposed for profiling (bench/profile-mlp.ts).
 */
export function oursMlpStep(batch: number, dtype: FloatDType, jit = false): OursMlp {
  const p = mlpProblem(batch);
  const { params, X, Y } = persistent(() => ({
    params: p.layers.flatMap((L) => [t(L.W, [L.fanIn, L.fanOut], dtype), t(L.b, [L.fanOut], dtype)]),
    X: t(p.X, [batch, MLP_SIZES[0]], dtype),
    Y: t(p.Y, [batch, MLP_SIZES[MLP_SIZES.length - 1]!], dtype),
  }));
  const nl = p.layers.length;
  const loss = (ps: bt.Tensor[]) => {
    let h = X;
    for (let l = 0; l < nl; l++) {
      const z = bt.add(bt.matmul(h, ps[2 * l]!), ps[2 * l + 1]!);
      h = l + 1 < nl ? bt.tanh(z) : z;
    }
    return bt.mean(bt.square(bt.sub(h, Y)));
  };
  // jit: the whole value+grad step traced once and replayed (X and Y become program constants).
  const vg = jit ? bt.jit(bt.valueAndGrad(loss)) : bt.valueAndGrad(loss);
  return {
    step: () => bt.tidy(() => vg(params) as [bt.Tensor, bt.Tensor[]]),
    dispose: () => {
      if ('clearCache' in vg) vg.clearCache();
      bt.dispose([params, X, Y]);
    },
  };
}

export async function oursMlpValueAndGrad(batch: number, dtype: FloatDType, opts?: MeasureOptions, jit = false): Promise<PeerResult> {
  const peer = peerName();
  const variant = `mlp ${MLP_SIZES.join('-')} batch ${batch} ${dtype}${jit ? ' jit' : ''}`;
  const mlp = oursMlpStep(batch, dtype, jit);
  try {
    const [v0, g0] = mlp.step();
    const lossV = (await read(v0))[0]!;
    const gradNorm = norm2(await Promise.all(g0.map(read)));
    bt.dispose([v0, g0]);
    const m = await measure(async () => {
      const [value, grads] = mlp.step();
      await read(value); // loss to host; the CPU backend computed the grads eagerly in step()
      bt.dispose([value, grads]);
    }, opts);
    return { peer, variant, value: 1000 / m.msPerIter, unit: 'steps/s', msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter, check: [lossV, gradNorm] };
  } finally {
    mlp.dispose();
  }
}

// ---------------------------------------------------------------------------
// Jacobian of f(x) = tanh(W x + b) + 0.1 sin(x): jacobians/s
// ---------------------------------------------------------------------------

export async function oursJacobian(
  n: number,
  mode: 'rev' | 'fwd',
  chunk: number,
  dtype: FloatDType,
  opts?: MeasureOptions,
  jit = false,
): Promise<PeerResult> {
  const peer = peerName();
  const variant = `jacobian ${mode} n=${n} chunk=${chunk} ${dtype}${jit ? ' jit' : ''}`;
  const p = jacobianProblem(n);
  const { W, b, x } = persistent(() => ({ W: t(p.W, [n, n], dtype), b: t(p.b, [n], dtype), x: t(p.x, [n], dtype) }));
  const f = (v: bt.Tensor) => bt.add(bt.tanh(bt.add(bt.matmul(W, v), b)), bt.mul(bt.sin(v), 0.1));
  const jf0 = mode === 'rev' ? bt.jacrev(f, { chunkSize: chunk }) : bt.jacfwd(f, { chunkSize: chunk });
  // jit: the chunked Jacobian traced once (W and b become program constants) and replayed.
  const jf = jit ? bt.jit(jf0) : jf0;
  try {
    const J0 = jf(x);
    if (J0.shape.length !== 2 || J0.shape[0] !== n || J0.shape[1] !== n) throw new Error(`${variant}: J has shape [${J0.shape}]`);
    const check = [sumOf(await read(J0))];
    J0.dispose();
    const m = await measure(async () => {
      const J = jf(x);
      await read(J);
      J.dispose();
    }, opts);
    return { peer, variant, value: 1000 / m.msPerIter, unit: 'jacobians/s', msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter, check };
  } finally {
    if ('clearCache' in jf) jf.clearCache();
    bt.dispose([W, b, x]);
  }
}
