/**
 * AggregatedGradientIMNN: GradientIMNN with the fixed simulations compressed nPerDevice at a time
 * on each device (imnn's AggregatedGradientIMNN). ∂x_i/∂θ_α is the network's JVP along the α-th
 * slice of ∂d_i/∂θ, chunk by chunk; the weight gradient is the two-pass chain rule (pass 1 the
 * outputs, Λ's cotangents on the host, pass 2 one VJP per chunk along them), equal to
 * GradientIMNN's to rounding. `prefetch` chunks are moved to their device ahead of use; with
 * `cache` every chunk stays on its device after its first move (memory for transfers).
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { dispose, tidy } from '../../memory.js';
import { withBackend } from '../../backends/backend.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { concat, reshape, slice, squeeze } from '../../autodiff/ops/shape.js';
import type { PyTree } from '../../autodiff/tree.js';
import { GradientIMNN, jvpDerivatives, type GradientIMNNOptions } from './gradient.js';
import { Aggregation, contract, gather, joinRows, lossCotangents, moveSync, type DataAggregationOptions, type Piece } from './aggregation.js';
import type { IMNNAux, IMNNState } from './imnn.js';
import { checkCotangents } from './aggregated-simulator.js';
import type { LossAux } from './fisher.js';

/** Options of AggregatedGradientIMNN: GradientIMNN's plus host, devices, nPerDevice, prefetch and cache. */
export interface AggregatedGradientIMNNOptions<P = PyTree> extends GradientIMNNOptions<P>, DataAggregationOptions {}

const KEYS = ['host', 'devices', 'nPerDevice', 'prefetch', 'cache'];

/** An IMNN fit to fixed simulations and their derivatives, aggregated over chunks and devices (imnn's AggregatedGradientIMNN). */
export class AggregatedGradientIMNN<P = PyTree> extends GradientIMNN<P> {
  /** the chunking: host, devices, nPerDevice, prefetch, cache and the shapes below */
  readonly aggregation: Aggregation;

  constructor(opts: AggregatedGradientIMNNOptions<P>) {
    super(opts, { name: 'AggregatedGradientIMNN', keys: KEYS });
    this.aggregation = new Aggregation(this.op, this.nS, this.nD, opts, true);
    this.aggregation.protect([this.fiducial, this.derivative, this.validationFiducial, this.validationDerivative]);
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
   * imnn's get_summary, on a chunk: `input` = simulations d [n, ...in] (or one [...in]), with
   * `derivative` [d, ∂d/∂θ [n, ...in, nParams]]. Returns x [n, nSummaries] (derivative: [x,
   * ∂x/∂θ]); with `gradient`, input = [cotangents, input] (cotangents dΛ/dx, or [dΛ/dx,
   * dΛ/d(∂x/∂θ)] with derivative) and the result is the weight gradient of ⟨cotangents, outputs⟩.
   */
  getSummary(input: Tensor | [Tensor, Tensor], w: P, θ: Tensor, opts?: { derivative?: boolean; gradient?: false }): Tensor | [Tensor, Tensor];
  getSummary(input: [Tensor | [Tensor, Tensor], Tensor | [Tensor, Tensor]], w: P, θ: Tensor, opts: { derivative?: boolean; gradient: true }): P;
  getSummary(input: unknown, w: P, _θ: Tensor, opts: { derivative?: boolean; gradient?: boolean } = {}): Tensor | [Tensor, Tensor] | P {
    const derivative = opts.derivative ?? false;
    const outputs = (v: P, inp: unknown): Tensor[] => {
      const apply = (d: Tensor) => this.model.apply(v, d);
      if (!derivative) return [apply(inp as Tensor)];
      if (!Array.isArray(inp) || inp.length !== 2) throw new ConfigError(`${this.op}.getSummary: with derivative, input must be [d, ∂d/∂θ].`);
      return jvpDerivatives(apply, inp[0] as Tensor, inp[1] as Tensor, this.nParams);
    };
    if (opts.gradient) {
      if (!Array.isArray(input) || input.length !== 2) throw new ConfigError(`${this.op}.getSummary: with gradient, input must be [cotangents, input].`);
      const [ct, inp] = input;
      const cts = derivative ? (ct as Tensor[]) : [ct as Tensor];
      return valueAndGrad((v: P) => contract(cts, outputs(v, inp)))(w)[1] as P;
    }
    const d = (derivative ? (input as Tensor[])[0] : input) as Tensor;
    if (!(d instanceof Tensor)) throw new ShapeError(`${this.op}.getSummary: input must be simulations [n, ${this.inputShape.join(', ')}]${derivative ? ' with their derivatives' : ''}.`);
    const one = d.ndim === this.inputShape.length;
    const inp = one ? (derivative ? (input as Tensor[]).map((t) => reshape(t, [1, ...t.shape])) : reshape(d, [1, ...d.shape])) : input;
    const out = outputs(w, inp).map((t) => (one ? squeeze(t, 0) : t));
    return derivative ? (out as [Tensor, Tensor]) : out[0]!;
  }

  /** The chunks of the fitting (or validation) set: the nD with derivatives, then the rest. */
  private pieces(validate: boolean, extra?: (offset: number, n: number, derivative: boolean) => PyTree): [Piece[], Piece[]] {
    const a = this.aggregation;
    const n = a.nPerDevice;
    const fid = validate ? this.validationFiducial! : this.fiducial;
    const der = validate ? this.validationDerivative! : this.derivative;
    const v = validate ? 'v' : 'f';
    const mk = (derivative: boolean) => (c: { offset: number; device: string }): Piece => ({
      device: c.device,
      id: `${v}:${derivative ? 'd' : 'r'}:${c.offset}`,
      data: () => (derivative ? [slice(fid, [c.offset], [n]), slice(der, [c.offset], [n])] : slice(fid, [c.offset], [n])),
      ...(extra ? { extra: () => extra(c.offset, n, derivative) } : {}),
    });
    return [a.chunks(0, this.nD).map(mk(true)), a.chunks(this.nD, this.nRemaining).map(mk(false))];
  }

  /** x [nS, nSummaries] and ∂x/∂θ [nD, nSummaries, nParams] of the fitting (validate: validation) set, chunk by chunk, on the host. */
  override getSummaries(w: P, _key?: Tensor, validate = false): [Tensor, Tensor] {
    return tidy(() => {
      const [main, rest] = this.pieces(validate && this.validate);
      const a = this.aggregation;
      const md = a.map(main, w, this.θFid, (d, _e, wd, θd) => this.getSummary(d as [Tensor, Tensor], wd as P, θd, { derivative: true })) as Tensor[][];
      const mr = a.map(rest, w, this.θFid, (d, _e, wd, θd) => [this.getSummary(d as Tensor, wd as P, θd) as Tensor]) as Tensor[][];
      const [x, dx] = gather(this.host, md) as [Tensor, Tensor];
      if (mr.length === 0) return [x, dx];
      return [withBackend(this.host, () => concat([x, gather(this.host, mr)[0]!], 0)), dx];
    });
  }

  /**
   * imnn's get_gradient: Σ over the fitting set's chunks of the weight gradient along dΛdx =
   * [dΛ/dx [nS, nSummaries], dΛ/d(∂x/∂θ) [nD, nSummaries, nParams]].
   */
  getGradient(dΛdx: [Tensor, Tensor], w: P, _key?: Tensor): P {
    const [gx, gdx] = checkCotangents(this.op, dΛdx, [this.nS, this.nSummaries], [this.nD, this.nSummaries, this.nParams]);
    return tidy(() => {
      const cts = (off: number, n: number, derivative: boolean) => (derivative ? [slice(gx, [off], [n]), slice(gdx, [off], [n])] : slice(gx, [off], [n]));
      const [main, rest] = this.pieces(false, cts);
      return this.aggregation.sum([...main, ...rest], w, this.θFid, (d, ct, wd, θd) => this.getSummary([ct as Tensor, d as Tensor], wd as P, θd, { derivative: Array.isArray(ct), gradient: true }) as PyTree) as P;
    });
  }

  /** getSummaries with asynchronous moves (any host and devices; the caller owns the results). */
  async getSummariesAsync(w: P, _key?: Tensor, validate = false): Promise<[Tensor, Tensor]> {
    const [main, rest] = this.pieces(validate && this.validate);
    const a = this.aggregation;
    const md = (await a.mapAsync(main, w, this.θFid, (d, _e, wd, θd) => this.getSummary(d as [Tensor, Tensor], wd as P, θd, { derivative: true }))) as Tensor[][];
    const mr = (await a.mapAsync(rest, w, this.θFid, (d, _e, wd, θd) => [this.getSummary(d as Tensor, wd as P, θd) as Tensor])) as Tensor[][];
    const [x, dx] = gather(this.host, md) as [Tensor, Tensor];
    return [joinRows(this.host, x, gather(this.host, mr)[0]), dx];
  }

  /** getGradient with asynchronous moves. */
  async getGradientAsync(dΛdx: [Tensor, Tensor], w: P, _key?: Tensor): Promise<P> {
    const [gx, gdx] = checkCotangents(this.op, dΛdx, [this.nS, this.nSummaries], [this.nD, this.nSummaries, this.nParams]);
    this.aggregation.protect([gx, gdx]);
    const cts = (off: number, n: number, derivative: boolean) => (derivative ? [slice(gx, [off], [n]), slice(gdx, [off], [n])] : slice(gx, [off], [n]));
    const [main, rest] = this.pieces(false, cts);
    return (await this.aggregation.sumAsync([...main, ...rest], w, this.θFid, (d, ct, wd, θd) => this.getSummary([ct as Tensor, d as Tensor], wd as P, θd, { derivative: Array.isArray(ct), gradient: true }) as PyTree)) as P;
  }

  protected override fitStep(state: IMNNState<P>, key: Tensor | undefined, λ: number, α: number): [IMNNState<P>, IMNNAux] | Promise<[IMNNState<P>, IMNNAux]> {
    if (this.aggregation.sync) return this.update(state, key, λ, α);
    return this.updateTwoPass(state, key, λ, α, this.host, { summaries: (w, k, v) => this.getSummariesAsync(w, k, v), derive: (d) => d, gradient: (c, w) => this.getGradientAsync(c, w) as Promise<PyTree> });
  }

  protected override async fitStatistics(opts: { w: P; key?: Tensor }): Promise<void> {
    if (this.aggregation.sync) {
      this.setFStatistics(opts);
      return;
    }
    const [x, dx] = await this.getSummariesAsync(opts.w, opts.key, true);
    this.assignStatistics(x, dx);
    dispose([x, dx]);
  }

  protected override lossAndGradient(w: P, key: Tensor | undefined, λ: number, α: number): [Tensor, LossAux, PyTree] {
    const [x, dx] = this.getSummaries(w, key);
    const [loss, st, cts] = lossCotangents(this.host, x, dx, (d) => d, λ, α);
    return [loss, st, this.getGradient(cts, w, key) as PyTree];
  }
}

