/**
 * The likelihood where the chains live (the model's backend, in its dtype): one batched call that
 * stays on the device, and the reads that come back from it. A NaN or +∞ is only seen at a
 * read-back, so the device keeps the first offending point per chain until then.
 */
import { Tensor } from '../../tensor.js';
import { NumericalError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import type { TypedArray } from '../../dtype.js';
import { fromHost } from '../../autodiff/core.js';
import type { Model } from './model.js';
import type { BatchLikelihood } from './likelihood.js';

/** Host numbers as a tensor on the model's backend, in its dtype. */
export function onModel(model: Model, values: ArrayLike<number>, shape: number[]): Tensor {
  return fromHost(model.dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values), shape, model.backend);
}

/** Counters of the device path: batched likelihood calls and host read-backs. */
export interface DeviceCounters {
  numEval: number;
  calls: number;
  reads: number;
}

/** log L over the rows of u [n, D] on the model's backend → [n], not read (jitted or not as `lik` says; eager without one). */
export function evaluateDevice(model: Model, u: Tensor, counters: DeviceCounters, lik?: BatchLikelihood): Tensor {
  const n = u.shape[0]!;
  const l = lik ? lik.tensor(u) : model.logLikelihoodBatch(u);
  if (l.ndim !== 1 || l.shape[0] !== n) throw new ShapeError(`ns: logLikelihood must return a scalar per point; over ${n} points it gave shape [${l.shape.join(', ')}].`);
  counters.calls++;
  return l;
}

/** The values of t on the host: one read-back, counted. */
export async function readBack(t: Tensor, counters: DeviceCounters): Promise<TypedArray> {
  counters.reads++;
  return t.data();
}

/** The error for a NaN or +∞ log L at unit-cube point `row`, naming the prior values there. */
export async function badPointError(model: Model, row: number[], v: number): Promise<NumericalError> {
  const named = tidy(() => model.transformOne(onModel(model, row, [row.length])));
  const parts: string[] = [];
  for (const [k, t] of Object.entries(named)) {
    parts.push(`${k} = [${Array.from(await t.data()).join(', ')}]`);
  }
  for (const t of Object.values(named)) t.dispose();
  return new NumericalError(`ns: logLikelihood returned ${v} at U = [${row.join(', ')}] (${parts.join(', ')}); it must be finite or −Infinity (zero likelihood).`);
}
