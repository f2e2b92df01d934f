/**
 * A corner plot from posterior draws: the 1-D marginal histogram of each coordinate on the
 * diagonal, the 2-D histogram of each pair below it. Panels are `Plot`s from svg.ts laid out in
 * one SVG; optional exact marginal densities and true values are drawn over them.
 */
import { Plot, type Range } from './svg.js';

/** Options of cornerPlot. */
export interface CornerOptions {
  title: string;
  /** One name per coordinate. */
  names: readonly string[];
  /** Axis range per coordinate (default: the draws' range, padded by 5 %). */
  ranges?: readonly Range[];
  /** Histogram bins per axis (default 30). */
  bins?: number;
  /** Side of one panel in pixels (default 240). */
  panel?: number;
  /** Colour of the 2-D histograms, as #rrggbb (default blue). */
  color?: string;
  /** Exact marginal densities, drawn as lines over the diagonal histograms. */
  marginals?: readonly (((x: number) => number) | undefined)[];
  /** A label for the marginal lines' legend (default 'exact'). */
  marginalLabel?: string;
  /** True values, drawn as lines (diagonal) and crosses (pairs). */
  truths?: readonly (number | undefined)[];
}

const pad = (lo: number, hi: number): Range => {
  const d = hi > lo ? 0.05 * (hi - lo) : 0.5;
  return { min: lo - d, max: hi + d };
};

/** The SVG text of a corner plot of `draws` (n × K, one row per draw). */
export function cornerPlot(draws: readonly (readonly number[])[], o: CornerOptions): string {
  const K = o.names.length;
  if (!draws.length || draws.some((d) => d.length !== K)) throw new Error(`cornerPlot: expected draws with ${K} coordinates each (one name per coordinate).`);
  const bins = o.bins ?? 30;
  const W = o.panel ?? 240;
  const color = o.color ?? '#1f77b4';
  const col = (k: number) => draws.map((d) => d[k]!);
  const ranges = o.ranges ?? o.names.map((_, k) => pad(Math.min(...col(k)), Math.max(...col(k))));
  const edges = (r: Range) => Array.from({ length: bins + 1 }, (_, i) => r.min + ((r.max - r.min) * i) / bins);
  const bin = (v: number, r: Range) => Math.floor(((v - r.min) / (r.max - r.min)) * bins);
  const panels: { svg: string; row: number; col: number }[] = [];
  for (let i = 0; i < K; i++) {
    for (let j = 0; j <= i; j++) {
      const rx = ranges[j]!;
      const xLabel = i === K - 1 ? o.names[j] : undefined;
      let p: Plot;
      if (i === j) {
        const counts = new Array<number>(bins).fill(0);
        for (const d of draws) {
          const b = bin(d[i]!, rx);
          if (b >= 0 && b < bins) counts[b]!++;
        }
        const w = (rx.max - rx.min) / bins;
        const dens = counts.map((c) => c / (draws.length * w));
        const exact = o.marginals?.[i];
        const grid = Array.from({ length: 201 }, (_, t) => rx.min + ((rx.max - rx.min) * t) / 200);
        const curve = exact ? grid.map((x) => [x, exact(x)] as const) : [];
        const top = 1.15 * Math.max(...dens, ...curve.map(([, y]) => y));
        p = new Plot({ title: o.names[i]!, width: W, height: W, x: rx, y: { min: 0, max: top }, xLabel, yLabel: 'density' });
        p.bars(edges(rx), dens, { color: '#9ecae1' });
        if (exact) p.line(curve, { color: '#d62728', width: 1.5 });
        const t = o.truths?.[i];
        if (t !== undefined) p.line([[t, 0], [t, top]], { color: '#000', width: 1, dash: '4 3' });
      } else {
        const ry = ranges[i]!;
        const h = Array.from({ length: bins }, () => new Array<number>(bins).fill(0));
        for (const d of draws) {
          const bx = bin(d[j]!, rx);
          const by = bin(d[i]!, ry);
          if (bx >= 0 && bx < bins && by >= 0 && by < bins) h[by]![bx]!++;
        }
        const max = Math.max(1, ...h.flat());
        p = new Plot({ title: '', width: W, height: W, x: rx, y: ry, xLabel, yLabel: o.names[i] });
        // opacity ∝ √count: the sparse edges of the distribution stay visible
        p.cells(edges(rx), edges(ry), h, (c) => (c > 0 ? `${color}${Math.round(40 + 215 * Math.sqrt(c / max)).toString(16).padStart(2, '0')}` : null));
        const [tx, ty] = [o.truths?.[j], o.truths?.[i]];
        if (tx !== undefined && ty !== undefined) p.dots([[tx, ty]], { color: '#000', r: 3 });
      }
      panels.push({ svg: p.toString(), row: i, col: j });
    }
  }
  // the panels' own <svg> wrappers go; their clip paths get unique ids
  const rowH = W;
  const inner = panels
    .map((q, k) => {
      const body = q.svg
        .replace(/^<svg[^>]*>/, '')
        .replace(/<\/svg>\s*$/, '')
        .replaceAll('plot-area', `corner-${k}`);
      return `<g transform="translate(${q.col * W},${30 + q.row * rowH})">${body}</g>`;
    })
    .join('\n');
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // the legend goes into the empty upper triangle (below the plot when K = 1)
  const items = [`<rect x="0" y="-10" width="14" height="12" fill="#9ecae1"/><text x="22" y="0" font-size="12">${draws.length} posterior draws</text>`];
  if (o.marginals?.some(Boolean)) items.push(`<line x1="0" y1="-4" x2="14" y2="-4" stroke="#d62728" stroke-width="1.5"/><text x="22" y="0" font-size="12">${esc(o.marginalLabel ?? 'exact marginal')}</text>`);
  if (o.truths?.some((t) => t !== undefined)) items.push(`<circle cx="7" cy="-4" r="3" fill="#000"/><text x="22" y="0" font-size="12">truth</text>`);
  const [lx, ly] = K > 1 ? [(K - 1) * W + 20, 30 + 50] : [20, 30 + W + 10];
  const legend = items.map((it, k) => `<g transform="translate(${lx},${ly + 20 * k})">${it}</g>`).join('');
  const height = K * rowH + 30 + (K > 1 ? 0 : 20 * items.length + 10);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${K * W}" height="${height}" font-family="Helvetica, Arial, sans-serif"><rect width="100%" height="100%" fill="#fafafa"/><text x="${(K * W) / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>\n${inner}\n${legend}\n</svg>\n`;
}
