/**
 * The GMMVI bench runs (`bench/gmmvi.ts --quick`: SAMTRON on GMM20 and breastCancer, 2 warm-up and
 * 4 timed iterations each) and reports finite, consistent numbers; the GMM20-to-target row says it
 * was not run unless asked.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

interface Row {
  experiment: string;
  dimensions: number;
  iterations: number;
  seconds: number;
  iterationsPerSecond: number;
  targetEvaluations: number;
  evaluationsPerSecond: number;
  cpuMsPerIteration: number;
  targetOnlyEvaluationsPerSecond: number;
  metricsMs: number;
  negElbo: number;
}

test('bench/gmmvi.ts --quick (cpu): both experiments timed over 4 iterations, rates consistent, to-target row marked not run', () => {
  const out = mkdtempSync(join(tmpdir(), 'bt-gmmvi-bench-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/gmmvi.ts'), '--quick', '--out', out], { cwd: root, encoding: 'utf8' });
    assert.is(r.status, 0, `bench/gmmvi.ts exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
    const j = JSON.parse(readFileSync(join(out, 'gmmvi-cpu.json'), 'utf8')) as { meta: { quick: boolean; dtype: string }; rows: Row[]; toTarget: { run: boolean; note: string } };
    assert.ok(j.meta.quick);
    assert.is(j.meta.dtype, 'float64');
    assert.equal(j.rows.map((x) => [x.experiment, x.dimensions]), [['gmm20', 20], ['breast_cancer', 31]]);
    for (const x of j.rows) {
      assert.is(x.iterations, 4, x.experiment);
      assert.ok(x.seconds > 0 && Math.abs(x.iterationsPerSecond * x.seconds - 4) < 1e-9, `${x.experiment}: ${x.iterationsPerSecond} it/s over ${x.seconds} s`);
      // SAMTRON draws new samples every iteration (n_des 100, fewer when reused ones are effective)
      assert.ok(x.targetEvaluations > 0 && x.targetEvaluations <= 4 * 100, `${x.experiment}: ${x.targetEvaluations} evaluations`);
      assert.ok(Math.abs(x.evaluationsPerSecond * x.seconds - x.targetEvaluations) < 1e-6);
      assert.ok(x.cpuMsPerIteration > 0 && x.targetOnlyEvaluationsPerSecond > 0 && x.metricsMs > 0 && Number.isFinite(x.negElbo));
    }
    assert.ok(!j.toTarget.run && /not run/.test(j.toTarget.note));
    assert.match(readFileSync(join(out, 'gmmvi-cpu.md'), 'utf8'), /QUICK RUN/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
