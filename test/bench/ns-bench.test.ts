/**
 * The nested-sampling bench runs (`bench/ns.ts --smoke`: one seed, 24 live points, s = 1, 480
 * samples) and reports honestly: measured rows carry finite numbers, reference rows say they were
 * not run here, and evidence maximisation has, per solver, either a time per step or a "not available" note.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

interface Row {
  variant: string;
  kind: string;
  logZ?: number;
  evaluations?: number;
  calls?: number;
  seconds?: number;
  note?: string;
}

test('bench/ns.ts --smoke (cpu): engine and plain-JS variants measured, references marked, EM timed or marked unavailable', () => {
  const out = mkdtempSync(join(tmpdir(), 'bt-ns-bench-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/ns.ts'), '--smoke', '--out', out], { cwd: root, encoding: 'utf8' });
    assert.is(r.status, 0, `bench/ns.ts exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
    const j = JSON.parse(readFileSync(join(out, 'ns-cpu.json'), 'utf8')) as { meta: { smoke: boolean }; runs: Row[]; references: Row[]; em: { solver: string; eStepSeconds?: number; mStepSeconds?: number; note: string }[] };
    assert.ok(j.meta.smoke);
    const measured = j.runs.filter((x) => x.kind === 'measured');
    assert.equal(measured.map((x) => x.variant.split(' (')[0]), ['engine likelihood', 'engine likelihood', 'plain-JS likelihood']);
    assert.match(measured[0]!.variant, /jit\)/);
    assert.match(measured[1]!.variant, /jit: false/);
    for (const x of measured) {
      assert.ok(Number.isFinite(x.logZ) && x.seconds! > 0, `${x.variant}: log Z ${x.logZ}, ${x.seconds} s`);
      assert.ok(x.calls! > 0 && x.calls! <= x.evaluations!, `${x.variant}: ${x.calls} calls for ${x.evaluations} evaluations`);
    }
    // the same key gives the same path whichever way the likelihood is computed (jitted or not)
    for (const x of measured.slice(1)) {
      assert.is(x.evaluations, measured[0]!.evaluations);
      assert.is(x.calls, measured[0]!.calls);
    }
    assert.is(measured[0]!.logZ, measured[1]!.logZ);
    assert.ok(j.references.length >= 3 && j.references.every((x) => x.kind === 'reference' && /not run here/.test(x.note ?? '')));
    assert.equal(j.em.map((r) => r.solver), ['newton-cg', 'sgd', 'adam (1e-2)']);
    for (const r of j.em) {
      if (r.eStepSeconds === undefined) assert.match(r.note, /not available|failed/);
      else assert.ok(r.eStepSeconds > 0 && r.mStepSeconds! > 0, `${r.solver}: ${r.eStepSeconds}, ${r.mStepSeconds}`);
    }
    const md = readFileSync(join(out, 'ns-cpu.md'), 'utf8');
    assert.match(md, /SMOKE RUN/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
