/**
 * A minimal hand-written SVG plotter for the demo: axes with ticks, contour lines (marching
 * squares), polylines, markers, histograms and a legend. No dependencies; output is a string.
 */

export interface Range {
  min: number;
  max: number;
}

export interface PlotOptions {
  width?: number;
  height?: number;
  title: string;
  xLabel?: string;
  yLabel?: string;
  x: Range;
  y: Range;
  /** Keep one unit of x as long as one unit of y. */
  equalAspect?: boolean;
  /** A logarithmic y axis (y.min > 0); ticks at 1, 2, 5 × powers of ten. */
  yLog?: boolean;
  /** Where the legend goes: 'auto' (default) picks the inside corner that covers the fewest drawn points, else below the plot. */
  legend?: 'auto' | 'below';
}

type Pt = readonly [number, number];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (Math.abs(v) < 1e-12 ? '0' : Number(v.toPrecision(6)).toString());
const r2 = (v: number) => Math.round(v * 100) / 100;

/** Roughly n "nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 6): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * span; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

export class Plot {
  private readonly w: number;
  private readonly h: number;
  private readonly left = 64;
  private readonly right = 16;
  private readonly top = 36;
  private readonly bottom = 48;
  private readonly body: string[] = [];
  private readonly legendItems: { label: string; color: string; kind: 'line' | 'dot' | 'rect'; dash?: string; width?: number }[] = [];
  /** Pixel positions the data occupies (sampled along lines and bars), to keep the legend off them. */
  private readonly occupied: [number, number][] = [];

  constructor(private readonly o: PlotOptions) {
    this.w = o.width ?? 640;
    this.h = o.height ?? 480;
    if (o.equalAspect) {
      const pw = this.w - this.left - this.right;
      const ph = this.h - this.top - this.bottom;
      const sx = pw / (o.x.max - o.x.min);
      const sy = ph / (o.y.max - o.y.min);
      if (sx < sy) this.h = this.top + this.bottom + Math.round(sx * (o.y.max - o.y.min));
      else this.w = this.left + this.right + Math.round(sy * (o.x.max - o.x.min));
    }
  }

  /** Data x to pixel x. */
  px(x: number): number {
    const { min, max } = this.o.x;
    return r2(this.left + ((x - min) / (max - min)) * (this.w - this.left - this.right));
  }

  /** Data y to pixel y (y grows upwards; log10 of y on a log axis). */
  py(y: number): number {
    const t = this.o.yLog ? (v: number) => Math.log10(Math.max(v, 1e-300)) : (v: number) => v;
    const [min, max] = [t(this.o.y.min), t(this.o.y.max)];
    return r2(this.h - this.bottom - ((t(y) - min) / (max - min)) * (this.h - this.top - this.bottom));
  }

  /** Records pixel points along a polyline, about every 4 px, for the legend's placement. */
  private occupy(points: readonly Pt[]): void {
    for (let i = 0; i < points.length; i++) {
      const [x1, y1] = [this.px(points[i]![0]), this.py(points[i]![1])];
      this.occupied.push([x1, y1]);
      if (i + 1 < points.length) {
        const [x2, y2] = [this.px(points[i + 1]![0]), this.py(points[i + 1]![1])];
        const k = Math.min(200, Math.floor(Math.hypot(x2 - x1, y2 - y1) / 4));
        for (let j = 1; j < k; j++) this.occupied.push([x1 + ((x2 - x1) * j) / k, y1 + ((y2 - y1) * j) / k]);
      }
    }
  }

  private pts(points: readonly Pt[]): string {
    return points.map(([x, y]) => `${this.px(x)},${this.py(y)}`).join(' ');
  }

  line(points: readonly Pt[], opts: { color: string; width?: number; dash?: string; label?: string; opacity?: number }): this {
    if (points.length < 2) return this;
    const dash = opts.dash ? ` stroke-dasharray="${opts.dash}"` : '';
    const op = opts.opacity !== undefined ? ` stroke-opacity="${opts.opacity}"` : '';
    this.body.push(`<polyline fill="none" stroke="${opts.color}" stroke-width="${opts.width ?? 1.5}"${dash}${op} points="${this.pts(points)}"/>`);
    this.occupy(points);
    if (opts.label) this.legendItems.push({ label: opts.label, color: opts.color, kind: 'line', dash: opts.dash, width: opts.width });
    return this;
  }

  dots(points: readonly Pt[], opts: { color: string; r?: number; label?: string }): this {
    for (const [x, y] of points) this.body.push(`<circle cx="${this.px(x)}" cy="${this.py(y)}" r="${opts.r ?? 3}" fill="${opts.color}"/>`);
    for (const [x, y] of points) this.occupied.push([this.px(x), this.py(y)]);
    if (opts.label) this.legendItems.push({ label: opts.label, color: opts.color, kind: 'dot' });
    return this;
  }

  text(x: number, y: number, s: string, opts?: { color?: string; size?: number; anchor?: 'start' | 'middle' | 'end' }): this {
    // roughly where the text's glyphs fall (start anchor), so the legend avoids them too
    for (let k = 0; k < s.length; k += 2) this.occupied.push([this.px(x) + 6 + k * 0.55 * (opts?.size ?? 12), this.py(y) - 10]);
    this.body.push(
      `<text x="${this.px(x) + 6}" y="${this.py(y) - 6}" font-size="${opts?.size ?? 12}" fill="${opts?.color ?? '#222'}" text-anchor="${opts?.anchor ?? 'start'}">${esc(s)}</text>`,
    );
    return this;
  }

  /** Bars [lo, hi) with heights. */
  bars(edges: readonly number[], heights: readonly number[], opts: { color: string; label?: string }): this {
    for (let i = 0; i < heights.length; i++) {
      const x0 = this.px(edges[i]!);
      const x1 = this.px(edges[i + 1]!);
      const y0 = this.py(0);
      const y1 = this.py(heights[i]!);
      this.body.push(`<rect x="${x0}" y="${Math.min(y0, y1)}" width="${r2(Math.max(x1 - x0, 0.5))}" height="${r2(Math.abs(y0 - y1))}" fill="${opts.color}" stroke="#fff" stroke-width="0.3"/>`);
      for (let yy = Math.min(y0, y1); yy <= Math.max(y0, y1); yy += 4) this.occupied.push([(x0 + x1) / 2, yy]);
    }
    if (opts.label) this.legendItems.push({ label: opts.label, color: opts.color, kind: 'rect' });
    return this;
  }

  /**
   * Filled cells of a 2-D histogram: values[j][i] covers [xEdges[i], xEdges[i+1]) × [yEdges[j],
   * yEdges[j+1]); `fill` gives a cell's colour, or null to leave it empty.
   */
  cells(xEdges: readonly number[], yEdges: readonly number[], values: readonly (readonly number[])[], fill: (v: number) => string | null): this {
    for (let j = 0; j + 1 < yEdges.length; j++) {
      for (let i = 0; i + 1 < xEdges.length; i++) {
        const c = fill(values[j]![i]!);
        if (!c) continue;
        const [x0, x1] = [this.px(xEdges[i]!), this.px(xEdges[i + 1]!)];
        const [y0, y1] = [this.py(yEdges[j]!), this.py(yEdges[j + 1]!)];
        this.body.push(`<rect x="${Math.min(x0, x1)}" y="${Math.min(y0, y1)}" width="${r2(Math.abs(x1 - x0))}" height="${r2(Math.abs(y1 - y0))}" fill="${c}"/>`);
        this.occupied.push([(x0 + x1) / 2, (y0 + y1) / 2]);
      }
    }
    return this;
  }

  /**
   * Contour lines of a function sampled on a regular grid: z[j][i] at (xs[i], ys[j]).
   * Marching squares; each segment is drawn on its own (no joining needed for a picture).
   */
  contours(xs: readonly number[], ys: readonly number[], z: readonly (readonly number[])[], levels: readonly number[], color: (level: number, k: number) => string): this {
    levels.forEach((lev, k) => {
      const segs: string[] = [];
      for (let j = 0; j + 1 < ys.length; j++) {
        for (let i = 0; i + 1 < xs.length; i++) {
          const c = [z[j]![i]!, z[j]![i + 1]!, z[j + 1]![i + 1]!, z[j + 1]![i]!]; // bl, br, tr, tl
          const p: Pt[] = [
            [xs[i]!, ys[j]!],
            [xs[i + 1]!, ys[j]!],
            [xs[i + 1]!, ys[j + 1]!],
            [xs[i]!, ys[j + 1]!],
          ];
          const cross: Pt[] = [];
          for (let e = 0; e < 4; e++) {
            const a = c[e]!;
            const b = c[(e + 1) % 4]!;
            if ((a < lev) !== (b < lev)) {
              const t = (lev - a) / (b - a);
              const pa = p[e]!;
              const pb = p[(e + 1) % 4]!;
              cross.push([pa[0] + t * (pb[0] - pa[0]), pa[1] + t * (pb[1] - pa[1])]);
            }
          }
          for (let q = 0; q + 1 < cross.length; q += 2) {
            const [a, b] = [cross[q]!, cross[q + 1]!];
            segs.push(`M${this.px(a[0])} ${this.py(a[1])}L${this.px(b[0])} ${this.py(b[1])}`);
          }
        }
      }
      if (segs.length) this.body.push(`<path fill="none" stroke="${color(lev, k)}" stroke-width="0.8" d="${segs.join('')}"/>`);
    });
    return this;
  }

  toString(): string {
    const { w, h, left, right, top, bottom, o } = this;
    const xt = niceTicks(o.x.min, o.x.max);
    const yt = o.yLog ? logTicks(o.y.min, o.y.max) : niceTicks(o.y.min, o.y.max);
    const axes: string[] = [];
    axes.push(`<rect x="${left}" y="${top}" width="${w - left - right}" height="${h - top - bottom}" fill="#fff" stroke="#444"/>`);
    for (const t of xt) {
      const x = this.px(t);
      axes.push(`<line x1="${x}" y1="${h - bottom}" x2="${x}" y2="${h - bottom + 5}" stroke="#444"/>`);
      axes.push(`<text x="${x}" y="${h - bottom + 18}" font-size="11" text-anchor="middle">${fmt(t)}</text>`);
    }
    for (const t of yt) {
      const y = this.py(t);
      axes.push(`<line x1="${left - 5}" y1="${y}" x2="${left}" y2="${y}" stroke="#444"/>`);
      axes.push(`<text x="${left - 8}" y="${y + 4}" font-size="11" text-anchor="end">${fmt(t)}</text>`);
    }
    axes.push(`<text x="${(left + w - right) / 2}" y="${top - 14}" font-size="14" font-weight="bold" text-anchor="middle">${esc(o.title)}</text>`);
    if (o.xLabel) axes.push(`<text x="${(left + w - right) / 2}" y="${h - 10}" font-size="12" text-anchor="middle">${esc(o.xLabel)}</text>`);
    if (o.yLabel) axes.push(`<text x="14" y="${(top + h - bottom) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(top + h - bottom) / 2})">${esc(o.yLabel)}</text>`);
    const lw = Math.min(w - left - right - 8, 40 + 6.6 * Math.max(0, ...this.legendItems.map((it) => it.label.length)));
    const lh = this.legendItems.length * 18 + 6;
    // the inside corner whose box covers the fewest drawn points; if every corner covers some, below the plot
    const corners: [number, number][] = [
      [w - right - lw - 6, top + 2],
      [left + 6, top + 2],
      [w - right - lw - 6, h - bottom - lh - 4],
      [left + 6, h - bottom - lh - 4],
    ];
    const cover = ([bx, by]: [number, number]) => this.occupied.filter(([x, y]) => x >= bx - 4 && x <= bx + lw + 4 && y >= by - 4 && y <= by + lh + 4).length;
    const counts = corners.map(cover);
    const best = counts.indexOf(Math.min(...counts));
    const below = this.legendItems.length > 0 && (o.legend === 'below' || counts[best]! > 0);
    const extra = below ? lh + 8 : 0;
    const [bx, by] = below ? [left, h + 2] : corners[best]!;
    const legend = this.legendItems.map((it, i) => {
      const y = by + 12 + i * 18;
      const x = bx + 8;
      const dash = it.dash ? ` stroke-dasharray="${it.dash}"` : '';
      const mark =
        it.kind === 'line'
          ? `<line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${y - 4}" stroke="${it.color}" stroke-width="${Math.max(1.5, it.width ?? 2)}"${dash}/>`
          : it.kind === 'dot'
            ? `<circle cx="${x + 11}" cy="${y - 4}" r="4" fill="${it.color}"/>`
            : `<rect x="${x + 4}" y="${y - 10}" width="14" height="12" fill="${it.color}"/>`;
      return `${mark}<text x="${x + 28}" y="${y}" font-size="12">${esc(it.label)}</text>`;
    });
    const legendBox = this.legendItems.length ? `<rect x="${r2(bx)}" y="${r2(by)}" width="${r2(lw)}" height="${lh}" fill="#fff" fill-opacity="0.85" stroke="#bbb"/>` : '';
    const H = h + extra;
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${H}" viewBox="0 0 ${w} ${H}" font-family="Helvetica, Arial, sans-serif">`,
      `<rect width="${w}" height="${H}" fill="#fafafa"/>`,
      axes[0],
      `<clipPath id="plot-area"><rect x="${left}" y="${top}" width="${w - left - right}" height="${h - top - bottom}"/></clipPath>`,
      `<g clip-path="url(#plot-area)">`,
      ...this.body,
      `</g>`,
      ...axes.slice(1),
      legendBox,
      ...legend,
      `</svg>`,
      '',
    ].join('\n');
  }
}

/** Ticks for a log axis over [lo, hi] (lo > 0): powers of ten, with 2× and 5× when fewer than three decades show. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mult = b - a <= 2 ? [1, 2, 5] : [1];
  const step = Math.max(1, Math.ceil((b - a) / 8));
  const out: number[] = [];
  for (let e = a; e <= b; e += step) for (const m of mult) {
    const v = Number((m * 10 ** e).toPrecision(12));
    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
  }
  return out;
}

/** A colour ramp from light blue to dark red for k of n. */
export function ramp(k: number, n: number): string {
  const t = n <= 1 ? 0 : k / (n - 1);
  const h = 220 - 220 * t;
  return `hsl(${h.toFixed(0)}, 70%, ${(55 - 15 * t).toFixed(0)}%)`;
}
