/**
 * The sample tree (jaxns internals/tree_structure.py): every sample has one sender, the node at
 * the contour L* it was drawn above (the root, at L = −∞, sends the first c points). The live
 * count at a sample's contour is the number of tree edges crossing it: with all nodes sorted by
 * (log L, index), n_i = 1 + Σ_{nodes before i} (outDegree − 1). This gives the decreasing counts
 * inside a batch-discarded shell and counts phantom samples without special cases.
 */

/** Sort order and live-point counts of samples (creation order). */
export interface CrossedEdges {
  /** Sample indices in ascending (log L, index). */
  order: Int32Array;
  /** n of the sample at order[i]. */
  numLive: Float64Array;
}

/** Total order of samples: log L, then creation index (the root, index −1, first of all). */
export const byKey =
  (logL: ArrayLike<number>) =>
  (a: number, b: number): number =>
    logL[a]! - logL[b]! || a - b;

/** count_crossed_edges: `sender[i]` is the sender's sample index, −1 for the root. */
export function countCrossedEdges(sender: ArrayLike<number>, logL: ArrayLike<number>): CrossedEdges {
  const N = logL.length;
  if (sender.length !== N) throw new Error(`ns.countCrossedEdges: ${sender.length} senders for ${N} samples.`);
  // outDegree[0] is the root's, outDegree[i + 1] sample i's
  const outDegree = new Int32Array(N + 1);
  for (let i = 0; i < N; i++) {
    const s = sender[i]!;
    if (!(s >= -1 && s < i)) throw new Error(`ns.countCrossedEdges: sample ${i} has sender ${s}; a sender must be created before its samples.`);
    outDegree[s + 1]!++;
  }
  const order = Int32Array.from({ length: N }, (_, i) => i).sort(byKey(logL));
  const numLive = new Float64Array(N);
  // the root comes first in the order (L = −∞, index −1): after it, c edges cross
  let crossed = 1 + outDegree[0]! - 1;
  for (let j = 0; j < N; j++) {
    const i = order[j]!;
    numLive[j] = crossed;
    crossed += outDegree[i + 1]! - 1;
  }
  return { order, numLive };
}
