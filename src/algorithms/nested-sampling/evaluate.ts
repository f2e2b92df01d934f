/**
 * The likelihood over many unit-cube points at once: one vmapped engine call for all active
 * chains, read back as float64. NaN and +∞ are errors naming the point; −∞ is a zero likelihood.
 */
import { NumericalError, ShapeError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { tidy } from '../../memory.js';
import type { BatchLikelihood } from './likelihood.js';

/** log L at the rows of u (m × D, row-major), jitted or not as `lik` says; counts the evaluations in `counter`. */
export function evaluateRows(lik: BatchLikelihood, u: Float64Array, m: number, counter: { numEval: number }): Float64Array {
  const model = lik.model;
  const D = model.uNdims;
  if (m === 0) return new Float64Array(0);
  const out = tidy(() => {
    const { l, b } = lik.rows(u, m);
    if (l.ndim !== 1 || l.shape[0] !== b) throw new ShapeError(`ns: logLikelihood must return a scalar per point; over ${b} points it gave shape [${l.shape.join(', ')}].`);
    // jitted, the batch was padded to b rows: the first m values are the points' (dataSync is a copy: a view of it is ours)
    const all = l.dataSync();
    return all instanceof Float64Array ? all.subarray(0, m) : Float64Array.from(all.subarray(0, m));
  });
  counter.numEval += m;
  for (let i = 0; i < m; i++) {
    const v = out[i]!;
    if (Number.isNaN(v) || v === Infinity) {
      const row = Array.from(u.subarray(i * D, (i + 1) * D));
      const x = tidy(() => {
        const named = model.transformOne(tensor(row, { dtype: 'float64' }));
        return Object.entries(named).map(([k, t]) => `${k} = [${Array.from(t.dataSync()).join(', ')}]`).join(', ');
      });
      throw new NumericalError(`ns: logLikelihood returned ${v} at U = [${row.join(', ')}] (${x}); it must be finite or −Infinity (zero likelihood).`);
    }
  }
  return out;
}
