/**
 * Smoke test for bench/peers.ts: runs every peer function once with short
 * timings, checks each peer's result against the float64 plain-JS reference,
 * and prints a table. Exit code 1 if a peer fails or disagrees.
 *
 *   npm install --prefix bench && npx tsx bench/peers-smoke.ts [--full]
 *
 * `--full` uses the real timing budget (>= 1.5 s per case) instead of 0.2 s.
 */
import os from 'node:os';
import {
  jacobianProblem,
  jacobianReference,
  jaxjsJacobian,
  jaxjsMatmul,
  jaxjsMlpValueAndGrad,
  matmulProblem,
  matmulReference,
  mlpProblem,
  mlpReference,
  peerVersions,
  tfjsJacobian,
  tfjsMatmul,
  tfjsMlpValueAndGrad,
  type MeasureOptions,
  type PeerResult,
} from './peers.js';

const full = process.argv.includes('--full');
const opts: MeasureOptions = full ? {} : { minTimeMs: 200, warmupMs: 50, minSamples: 3 };

const N = 256;
const BATCH = 256;
const JN = 64;

const refMatmul = matmulReference(matmulProblem(N));
const refMlp = mlpReference(mlpProblem(BATCH));
const refJac = jacobianReference(jacobianProblem(JN)).sum;

type Case = { run: () => Promise<PeerResult>; ref: number[]; tol: number };
const cases: Case[] = [];
for (const dtype of ['float32', 'float64'] as const) {
  // float32 sum of 65k products of U(-1,1) terms: allow a loose relative error.
  const tol = dtype === 'float32' ? 1e-3 : 1e-9;
  cases.push({ run: () => tfjsMatmul(N, dtype, opts), ref: [refMatmul], tol });
  for (const jit of [false, true]) cases.push({ run: () => jaxjsMatmul(N, dtype, jit, opts), ref: [refMatmul], tol });
}
cases.push({ run: () => tfjsMlpValueAndGrad(BATCH, opts), ref: [refMlp.loss, refMlp.gradNorm], tol: 1e-4 });
for (const jit of [false, true])
  cases.push({ run: () => jaxjsMlpValueAndGrad(BATCH, jit, opts), ref: [refMlp.loss, refMlp.gradNorm], tol: 1e-4 });
for (const mode of ['rev', 'fwd'] as const) {
  for (const chunk of mode === 'rev' ? [1, JN] : [JN]) cases.push({ run: () => tfjsJacobian(JN, chunk, mode, opts), ref: [refJac], tol: 1e-4 });
  for (const jit of [false, true]) cases.push({ run: () => jaxjsJacobian(JN, mode, jit, opts), ref: [refJac], tol: 1e-4 });
}

const fmt = (v: number | null | undefined, d = 2) => (v == null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(d));
const relErr = (got: number[] | undefined, want: number[]) =>
  got ? Math.max(...want.map((w, i) => Math.abs((got[i] ?? NaN) - w) / Math.max(Math.abs(w), 1e-12))) : null;

console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}`);
console.log(JSON.stringify(await peerVersions()));
console.log(`timing: ${full ? 'full (>= 1.5 s per case)' : 'smoke (>= 0.2 s per case)'}\n`);

const rows: string[][] = [['peer', 'variant', 'value', 'unit', 'ms/iter', 'rel err', 'note']];
let failed = 0;
for (const c of cases) {
  let r: PeerResult;
  try {
    r = await c.run();
  } catch (e) {
    failed++;
    rows.push(['?', '?', 'ERROR', '', '', '', String((e as Error)?.stack ?? e).split('\n').slice(0, 3).join(' | ')]);
    continue;
  }
  const err = r.value == null ? null : relErr(r.check, c.ref);
  const bad = r.value != null && (err == null || !(err <= c.tol));
  if (bad) failed++;
  rows.push([r.peer, r.variant ?? '', fmt(r.value), r.unit, fmt(r.msPerIter, 3), err == null ? '-' : err.toExponential(1) + (bad ? ' FAIL' : ''), r.note ?? '']);
}
const widths = rows[0]!.map((_, j) => Math.max(...rows.map((row) => row[j]!.length)));
for (const row of rows) console.log(row.map((cell, j) => (j === 2 || j === 4 ? cell.padStart(widths[j]!) : cell.padEnd(widths[j]!))).join('  ').trimEnd());
console.log(`\n${cases.length - failed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
