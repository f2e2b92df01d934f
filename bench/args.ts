import { resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import * as bt from '../src/index.js';

/**
 * The options the algorithm benches share: [--backend cpu|webgpu] [--seconds S] [--out DIR], and
 * the comma-separated lists a bench names in `lists` (`--chains 1,16,64` or `--chains=1,16,64`),
 * returned under their names without the dashes (absent ones are not set).
 */
export function parseBenchArgs(script: string, argv: string[], defaultSeconds: number, lists: readonly string[] = []) {
  let backend = 'cpu';
  let seconds = defaultSeconds;
  let out = resolve(new URL('./results', import.meta.url).pathname);
  const given: Record<string, string[]> = {};
  const usage = () => {
    const more = lists.map((l) => ` [--${l} A,B,...]`).join('');
    console.error(`usage: tsx bench/${script} [--backend cpu|webgpu] [--seconds S] [--out DIR]${more}`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const is = (name: string) => a === name || a.startsWith(`${name}=`);
    const val = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]) ?? '';
    if (is('--backend')) backend = val();
    else if (is('--seconds')) seconds = Number(val());
    else if (is('--out')) out = resolve(val());
    else {
      const name = lists.find((l) => is(`--${l}`));
      if (name === undefined) usage();
      const items = val().split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (items.length === 0) {
        console.error(`bench/${script}: --${name} needs a comma-separated list`);
        process.exit(2);
      }
      given[name!] = items;
    }
  }
  if (!(seconds >= 0)) {
    console.error(`bench/${script}: --seconds must be a number ≥ 0`);
    process.exit(2);
  }
  return { backend, seconds, out, lists: given };
}

/**
 * The options of the WebGPU kernel benches (matmul-tiles, long-sums): [--quick] [--seconds S > 0]
 * [--out DIR]; --quick shortens the default timing to 0.1 s (from 0.5) and the bench its sizes.
 */
export function parseKernelBenchArgs(script: string, argv: string[]): { quick: boolean; seconds: number; out: string } {
  const quick = argv.includes('--quick');
  let seconds = quick ? 0.1 : 0.5;
  let out = resolve(new URL('./results', import.meta.url).pathname);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') continue;
    else if (a === '--seconds' && Number(argv[i + 1]) > 0) seconds = Number(argv[++i]);
    else if (a === '--out' && argv[i + 1]) out = resolve(argv[++i]!);
    else {
      console.error(`usage: npx tsx bench/${script} [--quick] [--seconds S > 0] [--out DIR]`);
      process.exit(2);
    }
  }
  return { quick, seconds, out };
}

/** A list option's items as positive integers (exits with a message otherwise); `fallback` when absent. */
export function intList(script: string, name: string, items: string[] | undefined, fallback: number[]): number[] {
  if (!items) return fallback;
  const xs = items.map(Number);
  const bad = items.filter((_, i) => !(Number.isInteger(xs[i]) && xs[i]! > 0));
  if (bad.length) {
    console.error(`bench/${script}: --${name} takes positive integers, got ${bad.join(', ')}`);
    process.exit(2);
  }
  return xs;
}

/** A list option's items, each one of `allowed` (exits with a message otherwise); `fallback` when absent. */
export function choiceList<T extends string>(script: string, name: string, items: string[] | undefined, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (!items) return [...fallback];
  const bad = items.filter((s) => !allowed.includes(s as T));
  if (bad.length) {
    console.error(`bench/${script}: --${name} takes ${allowed.join(', ')}; got ${bad.join(', ')}`);
    process.exit(2);
  }
  return items as T[];
}

/** What ran a backend's numbers: for WebGPU the adapter, and plainly whether it is a software one. */
export interface BackendNote {
  backend: string;
  /** the adapter's label (WebGPU), or 'host CPU' */
  device: string;
  /** a software/fallback adapter (lavapipe, SwiftShader): its numbers are CPU time, not GPU speed */
  software: boolean;
  /** '' on the CPU or on a hardware adapter; else the sentence every output must carry */
  warning: string;
}

/** Readies `backend` (it does not make it current) and describes what runs it. */
export async function describeBackend(backend: string): Promise<BackendNote> {
  const b = (await bt.ready(backend)) as { adapterInfo?: { isFallbackAdapter: boolean; architecture: string; description: string; device: string }; adapterLabel?: string };
  if (!b.adapterInfo) return { backend, device: 'host CPU', software: false, warning: '' };
  const label = b.adapterLabel ?? '(unnamed adapter)';
  const lava = /llvmpipe|lavapipe/i.test(label);
  const software = b.adapterInfo.isFallbackAdapter || lava || /swiftshader|software/i.test(label) || b.adapterInfo.architecture === 'software';
  const warning = !software ? '' : lava ? 'lavapipe (software Vulkan on the CPU): not GPU speed' : `a software/fallback adapter (${label}), on the CPU: not GPU speed`;
  return { backend, device: label, software, warning };
}

/** The markdown heading's suffix and the lines under it that say what ran each backend. */
export function backendLines(notes: readonly BackendNote[]): { heading: string; lines: string[] } {
  const warn = notes.filter((n) => n.warning);
  return {
    heading: warn.length ? ` — ${warn.map((n) => `${n.backend} = ${n.warning}`).join('; ')}` : '',
    lines: notes.map((n) => `- ${n.backend}: ${n.device}${n.warning ? ` — **${n.warning}**` : ''}`),
  };
}

/** The line above a crossover's "where it pays" list, naming a software adapter's warning. */
export function paysHeading(backend: string, notes: readonly BackendNote[]): string {
  const warn = notes.filter((n) => n.warning);
  return `Where ${backend} pays (ratio ≥ 1)${warn.length ? ` — ${warn.map((n) => `${n.backend}: ${n.warning}`).join('; ')}` : ''}:`;
}

/** The smallest x whose ratio is ≥ 1 (and whether every larger x pays too), as a sentence fragment; `fmt` names an x ('64 chains'). */
export function paysFrom(points: readonly { x: number; ratio: number }[], fmt: (x: number) => string): string {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const first = sorted.findIndex((p) => p.ratio >= 1);
  if (first < 0) {
    const best = sorted.reduce((b, p) => (p.ratio > b.ratio ? p : b));
    return `not within the sweep (best ${best.ratio.toFixed(2)}× at ${fmt(best.x)})`;
  }
  const stays = sorted.slice(first).every((p) => p.ratio >= 1);
  return `from ${fmt(sorted[first]!.x)} (${sorted[first]!.ratio.toFixed(2)}×)${stays ? '' : ', but not at every larger size'}`;
}

/**
 * `--append`: the rows of an earlier crossover JSON at `path` (same two backends) that this run
 * did not measure again (by `key`), before this run's rows, and the earlier runs' meta. Nothing
 * when the file is absent or compared other backends.
 */
export function earlierRows<R>(path: string, backends: readonly string[], rows: readonly R[], key: (r: R) => string): { rows: R[]; runs: unknown[] } {
  if (!existsSync(path)) return { rows: [], runs: [] };
  const old = JSON.parse(readFileSync(path, 'utf8')) as { meta?: { compare?: string[]; runs?: unknown[] }; rows?: R[] };
  if (JSON.stringify(old.meta?.compare) !== JSON.stringify(backends)) {
    console.error(`--append: ${path} compared ${JSON.stringify(old.meta?.compare)}, not ${JSON.stringify(backends)}; starting afresh`);
    return { rows: [], runs: [] };
  }
  const now = new Set(rows.map(key));
  const { runs, ...meta } = old.meta ?? {};
  return { rows: (old.rows ?? []).filter((r) => !now.has(key(r))), runs: runs ?? [meta] };
}
