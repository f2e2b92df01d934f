/**
 * AggregatedNumericalGradientIMNN: NumericalGradientIMNN with the fiducial simulations and the
 * nD·2·nParams perturbed ones compressed nPerDevice at a time on each device (imnn's
 * AggregatedNumericalGradientIMNN). Pass 1 gathers x [nS, nSummaries] and the perturbed outputs
 * x± [nD, 2, nParams, nSummaries] on the host; Λ is taken there through ∂x/∂θ = (x₊ − x₋)/δθ,
 * giving the cotangents dΛ/dx and dΛ/dx±; pass 2 is one first-order VJP per chunk along them.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { dispose, keep, tidy } from '../../memory.js';
import { withBackend } from '../../backends/backend.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { reshape, slice } from '../../autodiff/ops/shape.js';
import type { PyTree } from '../../autodiff/tree.js';
import { NumericalGradientIMNN, finiteDifference, type NumericalGradientIMNNOptions } from './numerical.js';
import { Aggregation, contract, gather, lossCotangents, moveSync, type DataAggregationOptions, type Piece } from './aggregation.js';
import { checkCotangents } from './aggregated-simulator.js';
import type { LossAux } from './fisher.js';
import type { IMNNAux, IMNNState } from './imnn.js';

/** Options of AggregatedNumericalGradientIMNN: NumericalGradientIMNN's plus host, devices, nPerDevice, prefetch and cache. */
export interface AggregatedNumericalGradientIMNNOptions<P = PyTree> extends NumericalGradientIMNNOptions<P>, DataAggregationOptions {}

const KEYS = ['host', 'devices', 'nPerDevice', 'prefetch', 'cache'];

/** An IMNN fit with numerical derivatives, aggregated over chunks and devices (imnn's AggregatedNumericalGradientIMNN). */
export class AggregatedNumericalGradientIMNN<P = PyTree> extends NumericalGradientIMNN<P> {
  /** the chunking: host, devices, nPerDevice, prefetch, cache and the shapes below */
  readonly aggregation: Aggregation;
  /** the perturbed simulations as one batch [nD·2·nParams, ...in] (fitting, validation) */
  private readonly flat: [Tensor, Tensor | undefined];

  constructor(opts: AggregatedNumericalGradientIMNNOptions<P>) {
    super(opts, { name: 'AggregatedNumericalGradientIMNN', keys: KEYS });
    this.aggregation = new Aggregation(this.op, this.nS, this.nD, opts, true);
    const n = this.nD * 2 * this.nParams;
    this.flat = keep([reshape(this.derivative, [n, ...this.inputShape]), this.validationDerivative ? reshape(this.validationDerivative, [n, ...this.inputShape]) : undefined]);
    this.aggregation.protect([this.fiducial, this.validationFiducial, this.flat]);
    this.replaceθFid(moveSync(this.θFid, this.host, this.op));
    const δθ = moveSync(this.δθ, this.host, this.op);
    if (δθ !== this.δθ) {
      if (this.ownsδθ) this.δθ.dispose();
      (this as { δθ: Tensor }).δθ = keep(δθ);
      this.ownsδθ = true;
    }
    this.ready(this.host);
  }

  /** Also frees the chunks kept by `cache` and the batched views of the perturbed sets. */
  override dispose(): void {
    super.dispose();
    this.aggregation.clearCache();
    dispose(this.flat.filter((t, i): t is Tensor => t !== undefined && t !== [this.derivative, this.validationDerivative][i]));
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
  /** nS − nD, the fiducial simulations without a perturbed counterpart */
  get nRemaining(): number {
    return this.aggregation.nRemaining;
  }
  /** passes over the devices for the nD derivative seeds */
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
  /** passes over the devices for the nS fiducial simulations */
  get fiducialIterations(): number {
    return this.nS / (this.devices.length * this.nPerDevice);
  }
  /** passes over the devices for the nD·2·nParams perturbed simulations */
  get derivativeIterations(): number {
    return (this.nD * 2 * this.nParams) / (this.devices.length * this.nPerDevice);
  }

  /**
   * imnn's get_summary, on a chunk: `input` = simulations [n, ...in] (fiducial or perturbed).
   * Returns x [n, nSummaries]; with `gradient`, input = [dΛ/dx [n, nSummaries], simulations] and
   * the result is the weight gradient of ⟨dΛ/dx, x⟩. derivative must be false (finite
   * differences are taken on the host).
   */
  getSummary(input: Tensor, w: P, θ: Tensor, opts?: { derivative?: false; gradient?: false }): Tensor;
  getSummary(input: [Tensor, Tensor], w: P, θ: Tensor, opts: { derivative?: false; gradient: true }): P;
  getSummary(input: Tensor | [Tensor, Tensor], w: P, _θ: Tensor, opts: { derivative?: boolean; gradient?: boolean } = {}): Tensor | P {
    if (opts.derivative) throw new ConfigError(`${this.op}.getSummary: derivative must be false: the derivatives are finite differences of the perturbed simulations' outputs.`);
    if (opts.gradient) {
      if (!Array.isArray(input) || input.length !== 2) throw new ConfigError(`${this.op}.getSummary: with gradient, input must be [dΛ/dx, simulations].`);
      const [ct, d] = input;
      return valueAndGrad((v: P) => contract([ct], [this.model.apply(v, d)]))(w)[1] as P;
    }
    if (!(input instanceof Tensor)) throw new ShapeError(`${this.op}.getSummary: input must be simulations [n, ${this.inputShape.join(', ')}].`);
    return this.model.apply(w, input);
  }

  /** The chunks of the fiducial simulations and of the perturbed ones. */
  private pieces(validate: boolean, extra?: (section: 0 | 1, offset: number, n: number) => PyTree): [Piece[], Piece[]] {
    const a = this.aggregation;
    const n = a.nPerDevice;
    const sets = [validate ? this.validationFiducial! : this.fiducial, validate ? this.flat[1]! : this.flat[0]];
    const v = validate ? 'v' : 'f';
    const mk = (section: 0 | 1) => (c: { offset: number; device: string }): Piece => ({
      device: c.device,
      id: `${v}:${section}:${c.offset}`,
      data: () => slice(sets[section]!, [c.offset], [n]),
      ...(extra ? { extra: () => extra(section, c.offset, n) } : {}),
    });
    return [a.chunks(0, this.nS).map(mk(0)), a.chunks(0, this.nD * 2 * this.nParams).map(mk(1))];
  }

  /** x [nS, nSummaries] and x± [nD, 2, nParams, nSummaries] on the host, chunk by chunk. */
  private rawSummaries(w: P, validate: boolean): [Tensor, Tensor] {
    const [fid, per] = this.pieces(validate);
    const f = (d: PyTree, _e: PyTree, wd: PyTree, θd: Tensor) => [this.getSummary(d as Tensor, wd as P, θd)];
    const [x] = gather(this.host, this.aggregation.map(fid, w, this.θFid, f) as Tensor[][]);
    const [xp] = gather(this.host, this.aggregation.map(per, w, this.θFid, f) as Tensor[][]);
    return [x!, withBackend(this.host, () => reshape(xp!, [this.nD, 2, this.nParams, this.nSummaries]))];
  }

  /** x [nS, nSummaries] and ∂x/∂θ = (x₊ − x₋)/δθ [nD, nSummaries, nParams] of the fitting (validate: validation) set. */
  override getSummaries(w: P, _key?: Tensor, validate = false): [Tensor, Tensor] {
    return tidy(() => {
      const [x, xp] = this.rawSummaries(w, validate && this.validate);
      return [x, withBackend(this.host, () => finiteDifference(xp, this.δθ))];
    });
  }

  /**
   * imnn's get_gradient: Σ over the chunks of the weight gradient along dΛdx = [dΛ/dx [nS,
   * nSummaries], dΛ/dx± [nD, 2, nParams, nSummaries]] (the perturbed outputs' cotangents).
   */
  getGradient(dΛdx: [Tensor, Tensor], w: P, _key?: Tensor): P {
    const [gx, gp] = checkCotangents(this.op, dΛdx, [this.nS, this.nSummaries], [this.nD, 2, this.nParams, this.nSummaries]);
    return tidy(() => {
      const gpFlat = reshape(gp, [this.nD * 2 * this.nParams, this.nSummaries]);
      const [fid, per] = this.pieces(false, (section, off, n) => slice(section === 0 ? gx : gpFlat, [off], [n]));
      return this.aggregation.sum([...fid, ...per], w, this.θFid, (d, ct, wd, θd) => this.getSummary([ct as Tensor, d as Tensor], wd as P, θd, { gradient: true }) as PyTree) as P;
    });
  }

  /** rawSummaries with asynchronous moves. */
  private async rawSummariesAsync(w: P, validate: boolean): Promise<[Tensor, Tensor]> {
    const [fid, per] = this.pieces(validate);
    const f = (d: PyTree, _e: PyTree, wd: PyTree, θd: Tensor) => [this.getSummary(d as Tensor, wd as P, θd)];
    const [x] = gather(this.host, (await this.aggregation.mapAsync(fid, w, this.θFid, f)) as Tensor[][]);
    const [xp] = gather(this.host, (await this.aggregation.mapAsync(per, w, this.θFid, f)) as Tensor[][]);
    const r = withBackend(this.host, () => reshape(xp!, [this.nD, 2, this.nParams, this.nSummaries]));
    if (r !== xp) xp!.dispose();
    return [x!, r];
  }

  /** getSummaries with asynchronous moves (any host and devices; the caller owns the results). */
  async getSummariesAsync(w: P, _key?: Tensor, validate = false): Promise<[Tensor, Tensor]> {
    const [x, xp] = await this.rawSummariesAsync(w, validate && this.validate);
    const dx = withBackend(this.host, () => finiteDifference(xp, this.δθ));
    xp.dispose();
    return [x, dx];
  }

  /** getGradient with asynchronous moves. */
  async getGradientAsync(dΛdx: [Tensor, Tensor], w: P, _key?: Tensor): Promise<P> {
    const [gx, gp] = checkCotangents(this.op, dΛdx, [this.nS, this.nSummaries], [this.nD, 2, this.nParams, this.nSummaries]);
    const gpFlat = keep(reshape(gp, [this.nD * 2 * this.nParams, this.nSummaries]));
    this.aggregation.protect([gx, gp, gpFlat]);
    try {
      const [fid, per] = this.pieces(false, (section, off, n) => slice(section === 0 ? gx : gpFlat, [off], [n]));
      return (await this.aggregation.sumAsync([...fid, ...per], w, this.θFid, (d, ct, wd, θd) => this.getSummary([ct as Tensor, d as Tensor], wd as P, θd, { gradient: true }) as PyTree)) as P;
    } finally {
      if (gpFlat !== gp) gpFlat.dispose();
    }
  }

  protected override fitStep(state: IMNNState<P>, key: Tensor | undefined, λ: number, α: number): [IMNNState<P>, IMNNAux] | Promise<[IMNNState<P>, IMNNAux]> {
    if (this.aggregation.sync) return this.update(state, key, λ, α);
    return this.updateTwoPass(state, key, λ, α, this.host, {
      summaries: (w, _k, v) => this.rawSummariesAsync(w, v && this.validate),
      derive: (a) => finiteDifference(a, this.δθ),
      gradient: (c, w) => this.getGradientAsync(c, w) as Promise<PyTree>,
    });
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

  protected override lossAndGradient(w: P, _key: Tensor | undefined, λ: number, α: number): [Tensor, LossAux, PyTree] {
    const [x, xp] = this.rawSummaries(w, false);
    const [loss, st, cts] = lossCotangents(this.host, x, xp, (a) => finiteDifference(a, this.δθ), λ, α);
    return [loss, st, this.getGradient(cts, w) as PyTree];
  }
}
