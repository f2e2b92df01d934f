/**
 * Watts–Strogatz small-world graphs, built on the host from a PRNG key (networkx's
 * `watts_strogatz_graph` construction): a ring lattice where every node links to its k/2 nearest
 * neighbours on each side; then, for each lattice edge (u, u + j), j = 1..k/2 in turn, with
 * probability p the far end is rewired to a uniformly chosen node w ≠ u that u is not already
 * linked to.
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { uniform } from '../../random.js';

/** A graph: its node count, undirected edges and directed edge lists for message passing. */
export interface Graph {
  nNodes: number;
  /** undirected edges, each once, as [u, v] with u ≠ v */
  edges: [number, number][];
  /** directed edge lists (both directions): messages flow src → dst */
  src: Int32Array;
  dst: Int32Array;
}

/** A Watts–Strogatz small-world graph on n nodes (k neighbours, rewiring probability p), built from a PRNG key. */
export function wattsStrogatz(key: Tensor, n: number, k: number, p: number): Graph {
  if (!Number.isInteger(n) || n < 3) throw new ConfigError(`simulators.wattsStrogatz: n must be an integer ≥ 3, got ${n}.`);
  if (!Number.isInteger(k) || k < 2 || k % 2 !== 0 || k >= n) throw new ConfigError(`simulators.wattsStrogatz: k must be an even integer in [2, n), got ${k}.`);
  if (!(p >= 0 && p <= 1)) throw new ConfigError(`simulators.wattsStrogatz: p must be in [0, 1], got ${p}.`);
  const half = k / 2;
  // enough uniforms for every coin flip and retries of the target choice
  const u = uniform(key, [n * half * 8]);
  const us = u.dataSync();
  u.dispose();
  let ui = 0;
  const next = () => us[ui++ % us.length]!;
  const adj: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  for (let v = 0; v < n; v++) {
    for (let j = 1; j <= half; j++) {
      const w = (v + j) % n;
      adj[v]!.add(w);
      adj[w]!.add(v);
    }
  }
  for (let j = 1; j <= half; j++) {
    for (let v = 0; v < n; v++) {
      if (next() >= p) continue;
      const w = (v + j) % n;
      if (adj[v]!.size >= n - 1) continue; // fully connected: nothing to rewire to
      let t = Math.floor(next() * n);
      let tries = 0;
      while ((t === v || adj[v]!.has(t)) && tries++ < 10 * n) t = Math.floor(next() * n);
      if (t === v || adj[v]!.has(t)) continue;
      if (!adj[v]!.has(w)) continue; // the lattice edge was already rewired away
      adj[v]!.delete(w);
      adj[w]!.delete(v);
      adj[v]!.add(t);
      adj[t]!.add(v);
    }
  }
  const edges: [number, number][] = [];
  for (let v = 0; v < n; v++) for (const w of adj[v]!) if (v < w) edges.push([v, w]);
  const src = new Int32Array(2 * edges.length);
  const dst = new Int32Array(2 * edges.length);
  edges.forEach(([a, b], i) => {
    src[2 * i] = a;
    dst[2 * i] = b;
    src[2 * i + 1] = b;
    dst[2 * i + 1] = a;
  });
  return { nNodes: n, edges, src, dst };
}
