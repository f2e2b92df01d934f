/**
 * AggregatedSimulatorIMNN: SimulatorIMNN with the simulations made and compressed nPerDevice at a
 * time on each device (imnn's AggregatedSimulatorIMNN). A fit step is the two-pass chain rule:
 *
 *   pass 1  x_i, ∂x_i/∂θ chunk by chunk (no tape), gathered on the host;
 *   host    Λ(x, ∂x/∂θ) and its cotangents dΛ/dx_i, dΛ/d(∂x_i/∂θ);
 *   pass 2  dΛ/dw = Σ_chunks VJP of w ↦ (x_c, ∂x_c/∂θ) along them — the same simulations again
 *           (the same keys), reverse mode over the forward derivatives within a chunk.
 *
 * The gradient equals SimulatorIMNN's to rounding; only one chunk's tape is alive at a time.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { dispose, keep, tidy } from '../../memory.js';
import { withBackend } from '../../backends/backend.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { concat, reshape, slice, squeeze } from '../../autodiff/ops/shape.js';
import { split } from '../../random.js';
import type { PyTree } from '../../autodiff/tree.js';
import { SimulatorIMNN, type SimulatorIMNNOptions } from './simulator.js';
import { Aggregation, contract, gather, joinRows, lossCotangents, moveSync, type AggregationOptions, type Piece } from './aggregation.js';
import type { IMNNAux, IMNNState } from './imnn.js';
import type { LossAux } from './fisher.js';

/** Options of AggregatedSimulatorIMNN: SimulatorIMNN's plus host, devices and nPerDevice. */
export interface AggregatedSimulatorIMNNOptions<P = PyTree> extends SimulatorIMNNOptions<P>, AggregationOptions {}

/** What getSummary's options select: the derivative ∂x/∂θ too, and/or the weight gradient along cotangents. */
export interface SummaryOptions {
  /** also ∂x/∂θ (for inputs with a derivative counterpart) */
  derivative?: boolean;
  /** the weight gradient of ⟨cotangents, outputs⟩ instead of the outputs */
  gradient?: boolean;
}

const KEYS = ['host', 'devices', 'nPerDevice'];

/** An IMNN fit to simulations drawn on the fly, aggregated over chunks and devices (imnn's AggregatedSimulatorIMNN). */
export class AggregatedSimulatorIMNN<P = PyTree> extends SimulatorIMNN<P> {
  /** the chunking: host, devices, nPerDevice, and the shapes below */
  readonly aggregation: Aggregation;

  constructor(opts: AggregatedSimulatorIMNNOptions<P>) {
    super(opts, { name: 'AggregatedSimulatorIMNN', keys: KEYS });
    this.aggregation = new Aggregation(this.op, this.nS, this.nD, opts, false);
    this.replaceθFid(moveSync(this.θFid, this.host, this.op));
    this.ready(this.host);
  }

  /** Also frees the chunks kept by `cache`. */
  override dispose(): void {
    super.dispose();
    this.aggregation.clearCache();
  }

  /** the backend of the loss, the optimiser and the weights */
  get host(): string {
    return this.aggregation.host;
  }
  /** the backends the chunks run on */
  get devices(): string[] {
    return this.aggregation.devices;
  }
  /** simulations per chunk */
  get nPerDevice(): number {
    return this.aggregation.nPerDevice;
  }
  /** nS − nD, the simulations without a derivative */
  get nRemaining(): number {
    return this.aggregation.nRemaining;
  }
  /** passes over the devices for the nD derivative simulations */
  get nIterations(): number {
    return this.aggregation.nIterations;
  }
  /** passes over the devices for the nS − nD remaining simulations */
  get nRemainingIterations(): number {
    return this.aggregation.nRemainingIterations;
  }
  /** [nIterations, devices.length, nPerDevice] */
  get batchShape(): number[] {
    return this.aggregation.batchShape;
  }
  /** [nRemainingIterations, devices.length, nPerDevice] */
  get remainingBatchShape(): number[] {
    return this.aggregation.remainingBatchShape;
  }

  /**
   * imnn's get_summary, on a chunk: `input` = keys [n, 2] (or one key [2]) of simulations at θ.
   * Returns x [n, nSummaries] (derivative: [x, ∂x/∂θ [n, nSummaries, nParams]]); with
   * `gradient`, input = [cotangents, keys] with cotangents dΛ/dx [n, nSummaries] (derivative:
   * [dΛ/dx, dΛ/d(∂x/∂θ)]) and the result is the weight gradient of ⟨cotangents, outputs⟩.
   */
  getSummary(input: Tensor, w: P, θ: Tensor, opts?: { derivative?: false; gradient?: false }): Tensor;
  getSummary(input: Tensor, w: P, θ: Tensor, opts: { derivative: true; gradient?: false }): [Tensor, Tensor];
  getSummary(input: [Tensor | [Tensor, Tensor], Tensor], w: P, θ: Tensor, opts: { derivative?: boolean; gradient: true }): P;
  getSummary(input: Tensor | [Tensor | [Tensor, Tensor], Tensor], w: P, θ: Tensor, opts: SummaryOptions = {}): Tensor | [Tensor, Tensor] | P {
    const derivative = opts.derivative ?? false;
    if (opts.gradient) {
      if (!Array.isArray(input) || input.length !== 2) throw new ConfigError(`${this.op}.getSummary: with gradient, input must be [cotangents, keys].`);
      const [ct, keys] = input;
      const cts = derivative ? (ct as [Tensor, Tensor]) : [ct as Tensor];
      return valueAndGrad((v: P) => contract(cts, this.summariesOf(v, keys, θ, derivative)))(w)[1] as P;
    }
    const keys = input as Tensor;
    if (!(keys instanceof Tensor) || keys.dtype !== 'int32' || keys.shape.at(-1) !== 2 || keys.ndim > 2) throw new ShapeError(`${this.op}.getSummary: input must be PRNG keys [n, 2] or one key [2].`);
    const one = keys.ndim === 1;
    const out = this.summariesOf(w, one ? reshape(keys, [1, 2]) : keys, θ, derivative);
    const r = one ? out.map((t) => squeeze(t, 0)) : out;
    return derivative ? (r as [Tensor, Tensor]) : r[0]!;
  }

  /** The chunks of the nS simulations drawn with `keys` (shape [nS, 2]), the nD with derivatives first. */
  private pieces(keys: Tensor, extra?: (offset: number, n: number, derivative: boolean) => PyTree): [Piece[], Piece[]] {
    const a = this.aggregation;
    const n = a.nPerDevice;
    const mk = (derivative: boolean) => (c: { offset: number; device: string }): Piece => ({
      device: c.device,
      id: '',
      data: () => slice(keys, [c.offset, 0], [n, 2]),
      ...(extra ? { extra: () => extra(c.offset, n, derivative) } : {}),
    });
    return [a.chunks(0, this.nD).map(mk(true)), a.chunks(this.nD, this.nRemaining).map(mk(false))];
  }

  /** x [nS, nSummaries] and ∂x/∂θ [nD, nSummaries, nParams] of the simulations drawn with key, chunk by chunk, on the host. */
  override getSummaries(w: P, key?: Tensor, _validate = false): [Tensor, Tensor] {
    if (!(key instanceof Tensor)) throw new ConfigError(`${this.op}.getSummaries: key is required to draw simulations.`);
    return tidy(() => {
      const [main, rest] = this.pieces(split(key, this.nS));
      const a = this.aggregation;
      const md = a.map(main, w, this.θFid, (k, _e, wd, θd) => this.getSummary(k as Tensor, wd as P, θd, { derivative: true })) as Tensor[][];
      const mr = a.map(rest, w, this.θFid, (k, _e, wd, θd) => [this.getSummary(k as Tensor, wd as P, θd)]) as Tensor[][];
      const [x, dx] = gather(this.host, md) as [Tensor, Tensor];
      if (mr.length === 0) return [x, dx];
      return [withBackend(this.host, () => concat([x, gather(this.host, mr)[0]!], 0)), dx];
    });
  }

  /**
   * imnn's get_gradient: Σ over chunks of the weight gradient along dΛdx = [dΛ/dx [nS, nSummaries],
   * dΛ/d(∂x/∂θ) [nD, nSummaries, nParams]], the simulations drawn again with the same key.
   */
  getGradient(dΛdx: [Tensor, Tensor], w: P, key?: Tensor): P {
    if (!(key instanceof Tensor)) throw new ConfigError(`${this.op}.getGradient: key is required to draw the simulations again.`);
    const [gx, gdx] = checkCotangents(this.op, dΛdx, [this.nS, this.nSummaries], [this.nD, this.nSummaries, this.nParams]);
    return tidy(() => {
      const cts = (off: number, n: number, derivative: boolean) => (derivative ? [slice(gx, [off], [n]), slice(gdx, [off], [n])] : slice(gx, [off], [n]));
      const [main, rest] = this.pieces(split(key, this.nS), cts);
      return this.aggregation.sum([...main, ...rest], w, this.θFid, (k, ct, wd, θd) => this.getSummary([ct as Tensor | [Tensor, Tensor], k as Tensor], wd as P, θd, { derivative: Array.isArray(ct), gradient: true })) as P;
    });
  }

  /** getSummaries with asynchronous moves (any host and devices; the caller owns the results). */
  async getSummariesAsync(w: P, key?: Tensor, _validate = false): Promise<[Tensor, Tensor]> {
    if (!(key instanceof Tensor)) throw new ConfigError(`${this.op}.getSummariesAsync: key is required to draw simulations.`);
    const keys = keep(split(key, this.nS));
    try {
      const [main, rest] = this.pieces(keys);
      const a = this.aggregation;
      const md = (await a.mapAsync(main, w, this.θFid, (k, _e, wd, θd) => this.getSummary(k as Tensor, wd as P, θd, { derivative: true }))) as Tensor[][];
      const mr = (await a.mapAsync(rest, w, this.θFid, (k, _e, wd, θd) => [this.getSummary(k as Tensor, wd as P, θd)]));
      const [x, dx] = gather(this.host, md) as [Tensor, Tensor];
      return [joinRows(this.host, x, gather(this.host, mr as Tensor[][])[0]), dx];
    } finally {
      if (!keys.isDisposed) keys.dispose();
    }
  }

  /** getGradient with asynchronous moves. */
  async getGradientAsync(dΛdx: [Tensor, Tensor], w: P, key?: Tensor): Promise<P> {
    if (!(key instanceof Tensor)) throw new ConfigError(`${this.op}.getGradientAsync: key is required to draw the simulations again.`);
    const [gx, gdx] = checkCotangents(this.op, dΛdx, [this.nS, this.nSummaries], [this.nD, this.nSummaries, this.nParams]);
    this.aggregation.protect([gx, gdx]);
    const keys = keep(split(key, this.nS));
    try {
      const cts = (off: number, n: number, derivative: boolean) => (derivative ? [slice(gx, [off], [n]), slice(gdx, [off], [n])] : slice(gx, [off], [n]));
      const [main, rest] = this.pieces(keys, cts);
      return (await this.aggregation.sumAsync([...main, ...rest], w, this.θFid, (k, ct, wd, θd) => this.getSummary([ct as Tensor | [Tensor, Tensor], k as Tensor], wd as P, θd, { derivative: Array.isArray(ct), gradient: true }))) as P;
    } finally {
      if (!keys.isDisposed) keys.dispose();
    }
  }

  protected override fitStep(state: IMNNState<P>, key: Tensor | undefined, λ: number, α: number): [IMNNState<P>, IMNNAux] | Promise<[IMNNState<P>, IMNNAux]> {
    if (this.aggregation.sync) return this.update(state, key, λ, α);
    return this.updateTwoPass(state, key, λ, α, this.host, { summaries: (w, k) => this.getSummariesAsync(w, k), derive: (d) => d, gradient: (c, w, k) => this.getGradientAsync(c, w, k) as Promise<PyTree> });
  }

  protected override async fitStatistics(opts: { w: P; key?: Tensor }): Promise<void> {
    if (this.aggregation.sync) {
      this.setFStatistics(opts);
      return;
    }
    const [x, dx] = await this.getSummariesAsync(opts.w, opts.key);
    this.assignStatistics(x, dx);
    dispose([x, dx]);
  }

  protected override lossAndGradient(w: P, key: Tensor | undefined, λ: number, α: number): [Tensor, LossAux, PyTree] {
    const [x, dx] = this.getSummaries(w, key);
    const [loss, st, cts] = lossCotangents(this.host, x, dx, (d) => d, λ, α);
    return [loss, st, this.getGradient(cts, w, key) as PyTree];
  }
}

/** The cotangents getGradient takes, checked: two tensors of the given shapes. */
export function checkCotangents(op: string, dΛdx: unknown, xShape: number[], aShape: number[]): [Tensor, Tensor] {
  const ok = (t: unknown, s: number[]) => t instanceof Tensor && t.ndim === s.length && t.shape.every((d, i) => d === s[i]);
  if (!Array.isArray(dΛdx) || dΛdx.length !== 2 || !ok(dΛdx[0], xShape) || !ok(dΛdx[1], aShape)) {
    throw new ShapeError(`${op}.getGradient: dΛdx must be [dΛ/dx [${xShape.join(', ')}], dΛ/d(derivatives) [${aShape.join(', ')}]].`);
  }
  return dΛdx as [Tensor, Tensor];
}
