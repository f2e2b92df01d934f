/**
 * The one run loop every algorithm uses: `run(init, { step, steps, key, ... })`.
 *
 * Step t runs `step(state, foldIn(key, t), t)` in its own tidy scope; the state it replaces is
 * disposed (never the one the caller passed in, never the kept best one), so memory stays flat.
 * Between steps the loop honours an AbortSignal, checks a non-finite probe (naming the step),
 * counts early-stopping patience, reports progress, saves checkpoints and yields to the event
 * loop every few dozen milliseconds so a page stays responsive. On backends that read
 * asynchronously (WebGPU) it reads only the scalars it needs, and the non-finite probe only every
 * `check.every` steps: a device-side tracker remembers the first bad step in between.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, NumericalError } from '../../errors.js';
import { tidy, keep, dispose } from '../../memory.js';
import { flatten, tensorsIn } from '../../autodiff/tree.js';
import { cast, greaterEqual, isFinite as isFiniteOp, where } from '../../autodiff/ops/elementwise.js';
import { min } from '../../autodiff/ops/reduce.js';
import { full } from '../../autodiff/ops/creation.js';
import { reshape } from '../../autodiff/ops/shape.js';
import { foldIn } from '../../random.js';
import { yieldToEventLoop } from '../../runtime.js';
import { checkProgress, makeDisplay, type Progress, type ProgressOptions } from './progress.js';
import { checkEarlyStopping, freshCounters, observe, type EarlyStoppingOptions, type StopCounters, type StopReason } from './stop.js';
import { checkCheckpointOption, makeCheckpoint, readCheckpoint, type Checkpoint, type CheckpointOptions } from './checkpoint.js';

/** A finiteness probe: a tensor whose entries are all finite iff the step went well. */
export interface CheckOptions<S, A> {
  /** The probe of a step (e.g. the log posterior, or a loss plus 0·Σ gradients). */
  value: (state: S, aux: A) => Tensor;
  /** Read it every this many steps (default 1 where reads are synchronous, 50 otherwise). */
  every?: number;
  /** What the probe is, for the message (default 'the check value'). */
  what?: string;
}

/** Options of the run loop. */
export interface LoopOptions<S, A> {
  /** The run's name in messages, the display and checkpoints (e.g. 'sgmcmc.run (sghmc)'). */
  name: string;
  /**
   * One step from `state`; runs inside a tidy scope. Must not mutate or dispose `state`. A step
   * may return a Promise (a backend whose reads are asynchronous, e.g. WebGPU): tidy scopes are
   * synchronous, so only the part before its first `await` runs inside the step's scope; an async
   * step tidies each synchronous stretch itself and `keep`s (and later disposes) what crosses an
   * await. What it resolves to is handled like a synchronous step's result.
   */
  step: (state: S, key: Tensor | undefined, t: number) => [S, A] | Promise<[S, A]>;
  /** Steps to take in all (a resumed run counts those before its checkpoint). */
  steps: number;
  /** The step counter of the initial state (default 0): step t uses foldIn(key, t). */
  start?: number;
  /** PRNG key; step t gets foldIn(key, t) (undefined without one). */
  key?: Tensor;
  /** Stops the run between steps (reason 'aborted'). */
  signal?: AbortSignal;
  /** After every step (t = the step counter after it), before aux is disposed; false ends the run ('terminated: onStep returned false'), a string s ends it as `terminated: s`. */
  onStep?: (state: S, aux: A, t: number) => void | boolean | string | Promise<void | boolean | string>;
  /** Called every progressEvery steps and once at the end. */
  onProgress?: (p: Progress) => void;
  /** Steps between onProgress calls (default steps/20). */
  progressEvery?: number;
  /** The display: true/undefined (auto: shown after a moment), false (silent), or options. */
  progress?: boolean | ProgressOptions;
  /** Named scalars to report, read only when the display or onProgress needs them. */
  values?: (state: S, aux: A) => Record<string, Tensor | number>;
  /** The non-finite check. */
  check?: CheckOptions<S, A>;
  /** Patience on a monitored scalar, with the best value (and optionally state) kept. */
  earlyStopping?: EarlyStoppingOptions<S, A>;
  /** Save a checkpoint every `every` steps. */
  checkpoint?: CheckpointOptions;
  /** Carry on from a checkpoint (the initial state is then taken from it). */
  resume?: Checkpoint | string;
  /** Backend to restore a checkpoint onto (default: the current one). */
  backend?: string;
  /** What a step is called in the display (default 'step'; VI: 'epoch'). */
  unit?: string;
  /** Milliseconds between turns given to the event loop (default 25). */
  yieldMs?: number;
}

/** What a run returns: the final state, why it stopped, counters, the best step. */
export interface LoopResult<S> {
  /** The final state (the caller owns it). */
  state: S;
  /** Why it stopped. */
  reason: StopReason;
  /** Steps taken in all (a resumed run counts those before its checkpoint). */
  steps: number;
  /** The step counter after the last step. */
  step: number;
  /** Best monitored value, its step and (keepBest) the state after it; null without early stopping or before any finite value. */
  best: { value: number; step: number; state?: S } | null;
  /** Seconds of this call. */
  seconds: number;
  /** Seconds over all calls of a resumed run. */
  totalSeconds: number;
  stepsPerSecond: number;
}

const KNOWN = ['name', 'step', 'steps', 'start', 'key', 'signal', 'onStep', 'onProgress', 'progressEvery', 'progress', 'values', 'check', 'earlyStopping', 'checkpoint', 'resume', 'backend', 'yieldMs', 'unit'];

function tensorSet(trees: unknown[]): Set<Tensor> {
  const s = new Set<Tensor>();
  for (const t of trees) for (const l of tensorsIn(t)) s.add(l);
  return s;
}

/** The caller's initial state's tensors, computed once per run (the loop never frees them). */
const initTensors = new WeakMap<object, Set<Tensor>>();

/** Disposes the tensors of `tree` that none of `keepTrees` holds (a step may pass a tensor through unchanged). */
function release(tree: unknown, keepTrees: unknown[]): void {
  const ls = tensorsIn(tree).filter((l) => !l.isDisposed);
  if (ls.length === 0) return;
  const keepSet = new Set<Tensor>();
  for (const k of keepTrees) {
    if (k === null || k === undefined) continue;
    const cached = typeof k === 'object' ? initTensors.get(k) : undefined;
    if (cached) for (const t of cached) keepSet.add(t);
    else for (const t of tensorSet([k])) keepSet.add(t);
  }
  for (const l of ls) if (!keepSet.has(l)) l.dispose();
}

const isSync = (tree: unknown): boolean => tensorsIn(tree).every((l) => !!l.concrete()._backend!.readSync);

async function readNumber(value: unknown, what: string, op: string): Promise<number> {
  const x = value instanceof Promise ? await value : value;
  if (typeof x === 'number') return x;
  if (!(x instanceof Tensor) || x.size !== 1) throw new ConfigError(`${op}: ${what} must be a number or a one-element tensor, got ${x instanceof Tensor ? `shape [${x.shape.join(', ')}]` : typeof x}.`);
  return (await x.data())[0]!;
}

/** Runs `steps` steps of `options.step` from `init` (or from `options.resume`). */
export async function run<S, A = unknown>(init: S | null | undefined, options: LoopOptions<S, A>): Promise<LoopResult<S>> {
  const o = options;
  const op = typeof o?.name === 'string' ? o.name : 'loop.run';
  if (!o || typeof o !== 'object') throw new ConfigError(`${op}: expected options { name, step, steps, ... }.`);
  for (const k of Object.keys(o)) if (!KNOWN.includes(k)) throw new ConfigError(`${op}: unknown loop option '${k}' (known: ${KNOWN.join(', ')}).`);
  if (typeof o.step !== 'function') throw new ConfigError(`${op}: step must be a function (state, key, t) => [state, aux].`);
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new ConfigError(`${op}: steps must be a non-negative integer, got ${String(o.steps)}.`);
  if (o.key !== undefined && !(o.key instanceof Tensor && o.key.dtype === 'int32')) throw new ConfigError(`${op}: key must be a PRNG key tensor (bt.random.key(seed)).`);
  if (o.start !== undefined && (!Number.isInteger(o.start) || o.start < 0)) throw new ConfigError(`${op}: start must be a non-negative integer, got ${String(o.start)}.`);
  if (o.progressEvery !== undefined && (!Number.isInteger(o.progressEvery) || o.progressEvery < 1)) throw new ConfigError(`${op}: progressEvery must be a positive integer, got ${String(o.progressEvery)}.`);
  if (o.check !== undefined && (typeof o.check?.value !== 'function' || (o.check.every !== undefined && (!Number.isInteger(o.check.every) || o.check.every < 1)))) {
    throw new ConfigError(`${op}: check must be { value: (state, aux) => Tensor, every?: positive integer }.`);
  }
  checkProgress(op, o.progress);
  checkCheckpointOption(op, o.checkpoint);
  const es = o.earlyStopping === undefined ? null : checkEarlyStopping(op, o.earlyStopping);

  // the starting point: the caller's state, or a checkpoint's
  let cur: S;
  let t: number;
  let done = 0;
  let counters: StopCounters | null = es ? freshCounters() : null;
  let best: S | undefined;
  let key = o.key;
  let ownKey = false;
  let priorSeconds = 0;
  const owned = (s: unknown) => s !== init; // the loop never disposes what the caller passed in
  if (o.resume !== undefined) {
    const r = readCheckpoint(op, op, o.resume, o.backend);
    if (r.done > o.steps) {
      dispose([r.state, r.key, r.best]);
      throw new ConfigError(`${op}: the checkpoint has taken ${r.done} steps, more than steps = ${o.steps}; give the same steps as the run that saved it.`);
    }
    if (r.key && key) {
      const [a, b] = [await key.data(), await r.key.data()];
      const same = a.length === b.length && a.every((v, i) => v === b[i]);
      r.key.dispose();
      if (!same) {
        dispose([r.state, r.best]);
        throw new ConfigError(`${op}: the key differs from the checkpoint's, so the resumed run would not continue the saved one; pass the same key (or none, to use the checkpoint's).`);
      }
    } else if (r.key) {
      key = keep(r.key);
      ownKey = true;
    }
    if (init !== undefined && init !== null) {
      const [a, b] = [flatten(init)[1], flatten(r.state)[1]];
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        dispose([r.state, r.best]);
        if (ownKey) key!.dispose();
        throw new ConfigError(`${op}: the checkpoint's state has another structure than the state given; resume with the same kind of state (or pass null).`);
      }
    }
    cur = keep(r.state as S);
    best = r.best === undefined ? undefined : keep(r.best as S);
    t = r.step;
    done = r.done;
    if (es) counters = r.stop ?? freshCounters();
    priorSeconds = r.seconds;
  } else {
    if (init === undefined || init === null) throw new ConfigError(`${op}: no initial state (pass one, or resume from a checkpoint).`);
    cur = init;
    t = o.start ?? 0;
  }

  if (init !== null && typeof init === 'object') initTensors.set(init, tensorSet([init]));
  const sync = isSync(cur);
  const checkEvery = o.check ? o.check.every ?? (sync ? 1 : 50) : 0;
  const progressEvery = o.progressEvery ?? Math.max(1, Math.floor(o.steps / 20));
  const yieldMs = o.yieldMs ?? 25;
  const t0 = performance.now();
  const display = await makeDisplay(o.progress, t0);
  let lastYield = t0;
  let reason: StopReason = 'completed';
  let firstBad: Tensor | null = null; // device-side: the first step whose probe was not finite (-1: none)
  const startDone = done;

  const progressOf = async (state: S, aux: A | undefined): Promise<Progress> => {
    const seconds = (performance.now() - t0) / 1000;
    const rate = (done - startDone) / Math.max(seconds, 1e-9);
    const values: Record<string, number> = {};
    if (o.values && aux !== undefined) {
      const vs = tidy(() => o.values!(state, aux));
      try {
        for (const [k, v] of Object.entries(vs)) values[k] = await readNumber(v, `values().${k}`, op);
      } finally {
        release(vs, [state, aux, init, best]);
      }
    }
    const b = counters && counters.best !== null ? { value: counters.best, step: counters.bestStep } : null;
    return { name: op, unit: o.unit ?? 'step', step: t, done, steps: o.steps, seconds, stepsPerSecond: rate, eta: (o.steps - done) / Math.max(rate, 1e-9), values, best: b };
  };

  const nonFinite = (step: number, value?: number) => {
    const what = o.check?.what ?? 'the check value';
    return new NumericalError(
      `${op}: ${what} is not finite at step ${step}${value === undefined ? '' : ` (${value})`}${checkEvery > 1 ? ` (checked every ${checkEvery} steps on this backend)` : ''}. The run stopped there; a smaller step size or learning rate may help, and check the data and the model.`,
    );
  };

  let lastAux: A | undefined;
  let lastReported = -1;
  // a run that had stopped early when its checkpoint was saved stays stopped: patience is spent
  if (es && counters && o.resume !== undefined && counters.wait >= es.patience) reason = 'earlyStopped';
  try {
    while (done < o.steps && reason === 'completed') {
      if (o.signal?.aborted) {
        reason = 'aborted';
        break;
      }
      const prev = cur;
      const tt = t;
      // a sync step's result comes straight out of its tidy scope; an async one's Promise is awaited
      // after it (the key it got was made in the scope, so it is kept until the step has finished)
      let pending: Promise<[S, A]> | null = null;
      let stepKey: Tensor | undefined;
      const out = tidy((): [S, A] | null => {
        stepKey = key ? foldIn(key, tt) : undefined;
        const r = o.step(prev, stepKey, tt);
        if (!(r instanceof Promise)) return r;
        if (stepKey) keep(stepKey);
        pending = r;
        return null;
      });
      let next: S;
      let aux: A;
      if (out !== null) [next, aux] = out;
      else {
        try {
          [next, aux] = await (pending as unknown as Promise<[S, A]>);
        } catch (e) {
          stepKey?.dispose();
          throw e;
        }
        if (stepKey) release(stepKey, [next, aux]);
      }
      cur = next;
      t++;
      done++;
      let stop: StopReason | null = null;
      try {
        // the non-finite probe: every step where reads are cheap, a device-side tracker otherwise;
        // always on the last step and before any early exit below (a diverged run must not end
        // as 'completed' or 'earlyStopped')
        const probe = async (force: boolean): Promise<void> => {
          if (!o.check || !checkEvery) return;
          if (sync) {
            if (!force && done % checkEvery !== 0) return;
            // tidy: a value the probe creates is freed (state and aux are not created here)
            const arr = tidy(() => Array.from(o.check!.value(next, aux).dataSync()));
            const bad = arr.find((x) => !Number.isFinite(x));
            if (bad !== undefined) throw nonFinite(tt, bad);
            return;
          }
          if (!force) {
            const prevBad: Tensor | null = firstBad;
            const tracked: Tensor = keep(tidy((): Tensor => {
              const v = o.check!.value(next, aux);
              const okAll = min(cast(isFiniteOp(reshape(v, [v.size])), 'float32'));
              // explicit float32 constants: two plain numbers would make float64, which WebGPU lacks
              const mark = where(okAll, full([], -1, 'float32'), full([], tt, 'float32'));
              return prevBad ? where(greaterEqual(prevBad, 0), prevBad, mark) : mark;
            }));
            firstBad = tracked;
            prevBad?.dispose();
          }
          if (firstBad && (force || done % checkEvery === 0)) {
            const s = (await firstBad.data())[0]!;
            if (s >= 0) throw nonFinite(s);
          }
        };
        await probe(done === o.steps);
        if (es && counters) {
          const mv = es.monitor(aux, next);
          const v = await readNumber(mv, 'earlyStopping.monitor', op);
          // a tensor the monitor made is freed (one that is part of state or aux stays)
          if (mv instanceof Tensor) release(mv, [next, aux, prev, init, best]);
          const improved = observe(counters, v, tt, es.minDelta, es.mode);
          if (improved && es.keepBest) {
            const old = best;
            best = next;
            if (old !== undefined && owned(old) && old !== prev) release(old, [cur, init]);
          }
          if (counters.wait >= es.patience) stop = 'earlyStopped';
        }
        if (o.onStep) {
          const r = await o.onStep(next, aux, t);
          if (r === false) stop ??= 'terminated: onStep returned false';
          else if (typeof r === 'string') stop ??= `terminated: ${r}`;
        }
        const now = performance.now();
        const forCallback = o.onProgress && done % progressEvery === 0;
        if (forCallback || display.wants(now)) {
          const p = await progressOf(next, aux);
          if (forCallback) {
            o.onProgress!(p);
            lastReported = done;
          }
          display.update(p, now);
        }
        if (stop || o.signal?.aborted) await probe(true);
        if (o.checkpoint && done % o.checkpoint.every === 0) {
          await probe(true); // a checkpoint never saves a state the tracker already knows is bad
          const cp = await makeCheckpoint(op, t, done, o.steps, next, key, counters, best, priorSeconds + (performance.now() - t0) / 1000);
          await o.checkpoint.save(cp);
        }
      } catch (e) {
        // the failed step's state and aux go; the state before it stays, handed over on the error
        release(aux, [prev, init, best]);
        if (owned(next) && next !== best) release(next, [prev, init, best]);
        cur = prev;
        throw e;
      }
      // the replaced state goes, unless it is the caller's or the kept best one
      if (owned(prev) && prev !== best) release(prev, [cur, init, best]);
      // aux stays alive until the end only for the closing progress report
      if (lastAux !== undefined) release(lastAux, [cur, init, best]);
      lastAux = aux;
      if (stop) {
        reason = stop;
        break;
      }
      if (performance.now() - lastYield > yieldMs) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    if (o.onProgress && lastReported !== done) o.onProgress(await progressOf(cur, lastAux));
    display.end(lastAux !== undefined || done > 0 ? await progressOf(cur, lastAux) : null);
  } catch (e) {
    display.end(null);
    // the last good state is the caller's now: it rides on the error as `state`, and the kept
    // best state (when early stopping keeps one) as `best` — the one most wanted after a divergence
    if (e !== null && typeof e === 'object') {
      if (!('state' in e)) Object.defineProperty(e, 'state', { value: cur, enumerable: false, configurable: true });
      if (best !== undefined && best !== cur && !('best' in e)) {
        Object.defineProperty(e, 'best', { value: { state: best, value: counters?.best, step: counters?.bestStep }, enumerable: false, configurable: true });
      }
    } else if (best !== undefined && owned(best) && best !== cur) release(best, [cur, init]);
    throw e;
  } finally {
    if (lastAux !== undefined) release(lastAux, [cur, init, best]);
    (firstBad as Tensor | null)?.dispose(); // assigned inside probe(), which TS does not follow
    if (ownKey) key!.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const b = counters && counters.best !== null ? { value: counters.best, step: counters.bestStep, ...(es?.keepBest && best !== undefined ? { state: best } : {}) } : null;
  if (best !== undefined && !b?.state && owned(best) && best !== cur) release(best, [cur, init]);
  return { state: cur, reason, steps: done, step: t, best: b, seconds, totalSeconds: priorSeconds + seconds, stepsPerSecond: (done - startDone) / Math.max(seconds, 1e-9) };
}
