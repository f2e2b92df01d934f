/**
 * The likelihood over many unit-cube points at once: one vmapped engine call for all active
 * chains, read back as float64. NaN and +∞ are errors naming the point; −∞ is a zero likelihood.
 */
import { NumericalError, ShapeError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { tidy } from '../../memory.js';
import type { Model } from './model.js';

/** log L at the rows of u (m × D, row-major); counts the evaluations in `counter`. */
export function evaluateRows(model: Model, u: Float64Array, m: number, counter: { numEval: number }): Float64Array {
  const D = model.uNdims;
  if (m === 0) return new Float64Array(0);
  const out = tidy(() => {
    const l = model.logLikelihoodBatch(tensor(u.subarray(0, m * D), { shape: [m, D], dtype: 'float64' }));
    if (l.ndim !== 1 || l.shape[0] !== m) throw new ShapeError(`ns: logLikelihood must return a scalar per point; over ${m} points it gave shape [${l.shape.join(', ')}].`);
    return Float64Array.from(l.dataSync());
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
