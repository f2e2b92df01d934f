/**
 * Host randomness for the sampler's bookkeeping (directions, brackets, seeds): Threefry streams
 * from the step's key, drawn in blocks (block b uses foldIn(key, b)), so a run is a pure function
 * of its key on every backend.
 */
import { foldInKeys, randomUniform64 } from '../../prng/threefry.js';

/** A block-wise Threefry stream on the host, a pure function of its key. */
export class HostRng {
  private block = 0;
  constructor(private readonly key: Int32Array) {}

  /** n uniforms in [0, 1). */
  uniform(n: number): Float64Array {
    if (n === 0) return new Float64Array(0);
    return randomUniform64(foldInKeys(this.key, 1, this.block++), 1, n);
  }

  /** n uniforms in (0, 1): safe for logs and quantiles. */
  open(n: number): Float64Array {
    const u = this.uniform(n);
    for (let i = 0; i < n; i++) if (u[i] === 0) u[i] = 2 ** -53;
    return u;
  }

  /** n standard normals (Box–Muller). */
  normal(n: number): Float64Array {
    const u = this.open(2 * Math.ceil(n / 2));
    // each pair of uniforms becomes a pair of normals in place
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(u[i]!));
      const a = 2 * Math.PI * u[i + 1]!;
      u[i] = r * Math.cos(a);
      u[i + 1] = r * Math.sin(a);
    }
    return u.subarray(0, n);
  }
}
