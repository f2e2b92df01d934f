/**
 * Runs every test file (uvu suites) in its own process, two at a time, and ends with the one
 * plain line CI reads: "N passed, N failed". Exits non-zero on any failure or crash.
 * Usage: tsx test/run.ts [substring filter ...]
 *
 * It also runs the WebGPU suite on a GPU machine without tsx (bench/gpu): bundled by
 * bench/gpu/prepare.sh into payload/test/run.mjs beside the bundled *.test.mjs files, it runs those
 * with plain node. Environment: BT_TEST_JOBS files at a time (default 2), BT_TEST_JSON a path to
 * write each file's counts to (after every file, so a run stopped early leaves what finished).
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';

const root = new URL('.', import.meta.url).pathname;
const filters = process.argv.slice(2);

function find(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return find(p);
    return name.endsWith('.test.ts') || name.endsWith('.test.mjs') ? [p] : [];
  });
}

const files = find(root)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

interface Result {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  code: number | null;
  seconds: number;
}

/**
 * On Mesa's lavapipe (the software Vulkan of machines without a GPU) every new shader goes through
 * LLVM's optimisation passes, and a test file runs most of its shaders once or a few times: with a
 * cold shader cache, as on a fresh CI machine, compiling dominated the WebGPU bodies (one file:
 * 41 s cold, 7 s warm). `nopt` skips those passes (cold: autodiff, flows, fusion and parity files
 * 318 → 241 s). Results stay within WGSL's rules, which the tolerances are built on; GPU drivers
 * ignore the variable, and a value set outside wins.
 */
const childEnv = { ...process.env, GALLIVM_PERF: process.env.GALLIVM_PERF ?? 'nopt' };

function runFile(file: string): Promise<Result> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const args = file.endsWith('.mjs') ? [file] : ['--import', 'tsx', file];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      // uvu prints "Total: N" (tests that ran, skipped ones not included), "Passed: N", "Skipped: N"
      const num = (label: string) => [...output.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))].reduce((s, m) => s + Number(m[1]), 0);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped');
      let failed = total - passed;
      if (code !== 0 && failed === 0) failed = 1; // crashed before or outside uvu's summary
      resolve({ file, passed, failed, skipped, output, code, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

const started = Date.now();

/** Each finished file's counts, and the output of those that failed, to BT_TEST_JSON (when set). */
function writeJson(done: boolean): void {
  if (!process.env.BT_TEST_JSON) return;
  const sum = (k: 'passed' | 'failed' | 'skipped') => results.reduce((s, r) => s + r[k], 0);
  const files = results.map((r) => ({ file: relative(root, r.file), passed: r.passed, failed: r.failed, skipped: r.skipped, seconds: r.seconds, ...(r.failed ? { output: r.output } : {}) }));
  const summary = { done, adapters: [...adapters], passed: sum('passed'), failed: sum('failed'), skipped: sum('skipped'), seconds: (Date.now() - started) / 1000, files };
  writeFileSync(process.env.BT_TEST_JSON, JSON.stringify(summary, null, 2));
}
/** Adapter labels already printed: every WebGPU file names its adapter, the run shows it once. */
const adapters = new Set<string>();
const results: Result[] = [];
const queue = [...files];
const jobs = Number(process.env.BT_TEST_JOBS) > 0 ? Math.floor(Number(process.env.BT_TEST_JOBS)) : 2;
const workers = Array.from({ length: Math.max(1, Math.min(jobs, availableParallelism())) }, async () => {
  for (let f = queue.shift(); f; f = queue.shift()) {
    const r = await runFile(f);
    results.push(r);
    const tag = r.failed ? 'FAIL' : 'ok  ';
    console.log(`${tag} ${relative(root, f)}  (${r.passed} passed${r.skipped ? `, ${r.skipped} skipped` : ''}${r.failed ? `, ${r.failed} failed` : ''}; ${r.seconds.toFixed(1)} s)`);
    if (r.failed) console.log(r.output.replace(/^/gm, '    '));
    else {
      // surface lines a test prints on purpose (loud skips, CPU-only bodies); the adapter once per run
      for (const line of r.output.split('\n')) {
        if (!line.startsWith('[note]')) continue;
        const adapter = /^\[note\] webgpu adapter \([^)]*\): (.*)$/.exec(line);
        if (adapter) {
          if (!adapters.has(adapter[1]!)) console.log(`    [note] webgpu adapter: ${adapter[1]}`);
          adapters.add(adapter[1]!);
        } else if (!/^\[note\] [^ ]+: backends /.test(line)) console.log(`    ${line}`);
      }
    }
    writeJson(false);
  }
});
await Promise.all(workers);

const passed = results.reduce((s, r) => s + r.passed, 0);
const failed = results.reduce((s, r) => s + r.failed, 0);
const skipped = results.reduce((s, r) => s + r.skipped, 0);
// the slowest files, so a rise in CI time points at its cause
const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 8);
if (results.length > 8) console.log(`\nslowest: ${slowest.map((r) => `${relative(root, r.file)} ${r.seconds.toFixed(0)} s`).join(', ')}`);
console.log(`\n${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (files.length === 0) console.log('no test files matched');
writeJson(true);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
