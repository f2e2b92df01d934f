/** The fit history as a small self-contained SVG: det F (dashed target), det C / det C⁻¹ (log), Λ₂ and r. */
import type { IMNNHistory } from './imnn.js';

/** Options of `plot`. */
export interface PlotOptions {
  /** the analytic det F, drawn dashed */
  expectedDetF?: number;
  /** colour of the training curves (validation ones are drawn dotted in the same colour) */
  colour?: string;
}

const W = 600;
const H = 160;
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function panel(y0: number, title: string, series: { ys: number[]; colour: string; dash?: string }[], log: boolean, hline?: number): string {
  const f = (v: number) => (log ? Math.log10(Math.max(v, 1e-300)) : v);
  const all = series.flatMap((s) => s.ys.filter(Number.isFinite).map(f)).concat(hline === undefined ? [] : [f(hline)]);
  const n = Math.max(2, ...series.map((s) => s.ys.length));
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi - lo < 1e-12) [lo, hi] = [lo - 1, hi + 1];
  const X = (i: number) => 50 + (i / (n - 1)) * (W - 70);
  const Y = (v: number) => y0 + 20 + (1 - (f(v) - lo) / (hi - lo)) * (H - 40);
  const out = [`<rect x="50" y="${y0 + 20}" width="${W - 70}" height="${H - 40}" fill="none" stroke="#888"/>`, `<text x="50" y="${y0 + 14}" font-size="12">${esc(title)}</text>`];
  out.push(`<text x="45" y="${y0 + 24}" font-size="9" text-anchor="end">${(log ? 10 ** hi : hi).toPrecision(3)}</text>`, `<text x="45" y="${y0 + H - 20}" font-size="9" text-anchor="end">${(log ? 10 ** lo : lo).toPrecision(3)}</text>`);
  if (hline !== undefined) out.push(`<line x1="50" x2="${W - 20}" y1="${Y(hline)}" y2="${Y(hline)}" stroke="#000" stroke-dasharray="6 4"/>`);
  for (const s of series) {
    const pts = s.ys.map((v, i) => (Number.isFinite(v) ? `${X(i).toFixed(1)},${Y(v).toFixed(1)}` : '')).filter(Boolean).join(' ');
    if (pts) out.push(`<polyline fill="none" stroke="${esc(s.colour)}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts}"/>`);
  }
  return out.join('\n');
}

/** The SVG of a history (validation curves dotted). */
export function historyPlot(h: IMNNHistory, validate: boolean, opts: PlotOptions = {}): string {
  const c = opts.colour ?? '#1f77b4';
  const s = (k: keyof IMNNHistory, colour = c) => [{ ys: h[k] as number[], colour }, ...(validate ? [{ ys: h[`val_${k}` as keyof IMNNHistory] as number[], colour, dash: '2 2' }] : [])];
  const parts = [
    panel(0, `det F (max ${h.maxDetF.toPrecision(4)})${opts.expectedDetF !== undefined ? `, expected ${opts.expectedDetF}` : ''}`, s('detF'), false, opts.expectedDetF),
    panel(H, 'det C and det C⁻¹ (log scale; C⁻¹ in grey)', [...s('detC'), ...s('detinvC', '#999')], true, 1),
    panel(2 * H, 'Λ₂ (colour) and r (grey)', [...s('Λ2'), ...s('r', '#999')], false),
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${3 * H}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>`;
}
