/**
 * The progress display of a run: a bar with rate and ETA when stderr is a terminal (cli-progress,
 * loaded only in Node, by a dynamic import a browser bundle never follows), plain lines every few
 * seconds otherwise (a log file, CI), console lines in a browser page. Short runs stay silent:
 * nothing is shown before `delayMs`.
 */
import { ConfigError } from '../../errors.js';

/** What a run reports: the counters, timing and the scalars the algorithm chose to show. */
export interface Progress {
  /** The run's name, e.g. 'sgmcmc.run (sghmc)'. */
  name: string;
  /** The step counter after the last step taken (the next step's t). */
  step: number;
  /** Steps taken in this run (a resumed run counts those before the checkpoint too). */
  done: number;
  /** Steps the run was asked for. */
  steps: number;
  /** Seconds since this call started. */
  seconds: number;
  /** Steps per second in this call. */
  stepsPerSecond: number;
  /** Estimated seconds left (at the current rate). */
  eta: number;
  /** What a step is called in the display ('step', 'epoch'). */
  unit: string;
  /** Named scalars read from the state/aux (e.g. logPosterior, loss). */
  values: Record<string, number>;
  /** The best monitored value so far and its step (with early stopping). */
  best: { value: number; step: number } | null;
}

/** How the progress display looks and where it goes. */
export interface ProgressOptions {
  /** 'auto' (default): a bar on a terminal, lines otherwise; 'bar'; 'lines'. */
  mode?: 'auto' | 'bar' | 'lines';
  /** Milliseconds between lines (default 5000; 0: a line every step). */
  intervalMs?: number;
  /** Nothing is shown before the run has taken this long (default 1500 ms; 0 shows at once). */
  delayMs?: number;
  /** The text of a line (default: name, step/steps, rate, ETA, values). */
  format?: (p: Progress) => string;
  /** Where lines go (default: stderr in Node, console.error in a browser). */
  write?: (line: string) => void;
}

type NodeHost = { process?: { env?: Record<string, string | undefined>; versions?: { node?: string }; stderr?: { isTTY?: boolean; write(s: string): unknown } } };
const host = globalThis as unknown as NodeHost;
const isNode = (): boolean => !!host.process?.versions?.node;

const fmtNum = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(5));

/** "1h02m", "3m04s", "12.3s". */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const fmtValues = (p: Progress): string => {
  const parts = Object.entries(p.values).map(([k, v]) => `${k} ${fmtNum(v)}`);
  if (p.best) parts.push(`best ${fmtNum(p.best.value)} @${p.best.step}`);
  return parts.join(' ');
};

/** The default line: `sgmcmc.run (sghmc): step 4000/10000 (40%) 812 steps/s ETA 7.4s logPosterior -12.3`. */
export function defaultLine(p: Progress): string {
  const pct = p.steps ? ` (${Math.floor((100 * p.done) / p.steps)}%)` : '';
  const u = p.unit;
  const rate = p.stepsPerSecond >= 1 ? `${p.stepsPerSecond.toFixed(p.stepsPerSecond < 10 ? 1 : 0)} ${u}s/s` : `${(1 / Math.max(p.stepsPerSecond, 1e-9)).toFixed(2)} s/${u}`;
  const v = fmtValues(p);
  return `${p.name}: ${u} ${p.done}/${p.steps}${pct} ${rate} ETA ${fmtSeconds(p.eta)}${v ? ` ${v}` : ''}`;
}

/** A display the driver feeds; `wants(now)` says whether values should be read for it now. */
export interface Display {
  wants(now: number): boolean;
  update(p: Progress, now: number): void;
  end(p: Progress | null): void;
}

const SILENT: Display = { wants: () => false, update: () => undefined, end: () => undefined };

/** Checks the `progress` option: false, true or ProgressOptions. */
export function checkProgress(op: string, p: unknown): void {
  if (p === undefined || typeof p === 'boolean') return;
  if (p === null || typeof p !== 'object') throw new ConfigError(`${op}: progress must be true, false or { mode, intervalMs, delayMs, format, write }.`);
  for (const k of Object.keys(p)) {
    if (!['mode', 'intervalMs', 'delayMs', 'format', 'write'].includes(k)) throw new ConfigError(`${op}: unknown progress option '${k}' (known: mode, intervalMs, delayMs, format, write).`);
  }
  const o = p as ProgressOptions;
  if (o.mode !== undefined && !['auto', 'bar', 'lines'].includes(o.mode)) throw new ConfigError(`${op}: progress.mode must be 'auto', 'bar' or 'lines', got ${JSON.stringify(o.mode)}.`);
  for (const k of ['intervalMs', 'delayMs'] as const) {
    if (o[k] !== undefined && !(typeof o[k] === 'number' && o[k]! >= 0)) throw new ConfigError(`${op}: progress.${k} must be a number ≥ 0, got ${String(o[k])}.`);
  }
  for (const k of ['format', 'write'] as const) if (o[k] !== undefined && typeof o[k] !== 'function') throw new ConfigError(`${op}: progress.${k} must be a function.`);
}

/**
 * The display for a run. `progress: false` (or BAYESTAPE_PROGRESS=0 in the environment, for test
 * suites and batch jobs) is silent.
 */
export async function makeDisplay(progress: boolean | ProgressOptions | undefined, t0: number): Promise<Display> {
  if (progress === false) return SILENT;
  const o: ProgressOptions = typeof progress === 'object' ? progress : {};
  if (progress === undefined && host.process?.env?.BAYESTAPE_PROGRESS === '0') return SILENT;
  const delayMs = o.delayMs ?? 1500;
  const format = o.format ?? defaultLine;
  const write = o.write ?? ((line: string) => (isNode() && host.process!.stderr ? host.process!.stderr.write(`${line}\n`) : console.error(line)));
  let mode = o.mode ?? 'auto';
  if (mode === 'auto') mode = isNode() && host.process!.stderr?.isTTY && !o.write ? 'bar' : 'lines';
  if (mode === 'bar') {
    const bar = await terminalBar(delayMs, t0, format);
    if (bar) return bar;
  }
  return lineDisplay(o.intervalMs ?? 5000, delayMs, t0, format, write);
}

function lineDisplay(intervalMs: number, delayMs: number, t0: number, format: (p: Progress) => string, write: (s: string) => void): Display {
  let last = -Infinity;
  let shown = false;
  let lastDone = -1;
  const due = (now: number) => now - t0 >= delayMs && now - last >= intervalMs;
  return {
    wants: due,
    update(p, now) {
      if (!due(now)) return;
      write(format(p));
      shown = true;
      last = now;
      lastDone = p.done;
    },
    // a closing line only when lines were shown (a short run stays silent) and it says something new
    end(p) {
      if (p && shown && p.done !== lastDone) write(format(p));
    },
  };
}

/** cli-progress in a terminal; null where it cannot be loaded (the caller falls back to lines). */
async function terminalBar(delayMs: number, t0: number, format: (p: Progress) => string): Promise<Display | null> {
  if (!isNode()) return null;
  type Bar = { start(total: number, value: number, payload?: object): void; update(value: number, payload?: object): void; setTotal(n: number): void; stop(): void };
  let mod: { SingleBar: new (opts: object, preset?: object) => Bar; Presets: Record<string, object> };
  try {
    const name = 'cli-progress'; // a variable, so browser bundlers do not try to resolve the Node package
    const m = (await import(/* @vite-ignore */ name)) as { default?: typeof mod } & typeof mod;
    mod = m.default ?? m;
  } catch {
    return null;
  }
  let bar: Bar | null = null;
  let lastRefresh = -Infinity;
  const wants = (now: number) => now - t0 >= delayMs && now - lastRefresh >= 200;
  return {
    wants,
    update(p, now) {
      if (!wants(now)) return;
      lastRefresh = now;
      const payload = { text: format(p) };
      if (!bar) {
        bar = new mod.SingleBar({ format: '{bar} {text}', stream: host.process!.stderr, hideCursor: false, clearOnComplete: false, barsize: 24, fps: 10 }, mod.Presets.shades_classic);
        bar.start(p.steps, p.done, payload);
      } else bar.update(p.done, payload);
    },
    end(p) {
      if (!bar) return;
      if (p) bar.update(p.done, { text: format(p) });
      bar.stop();
    },
  };
}
