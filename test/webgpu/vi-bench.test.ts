/**
 * The VI bench runs on WebGPU (`bench/vi.ts --backend webgpu --smoke`: every case, T = 10, one
 * timed epoch): a speed run on a real GPU uses the same command without --smoke.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webgpuOrSkip } from './setup.js';

const gpu = await webgpuOrSkip('vi-bench');
const root = new URL('../..', import.meta.url).pathname;

if (gpu) {
  test('bench/vi.ts --backend webgpu --smoke: every case runs and reports a finite rate', () => {
    const out = mkdtempSync(join(tmpdir(), 'bt-vi-bench-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/vi.ts'), '--backend', 'webgpu', '--smoke', '--out', out], { cwd: root, encoding: 'utf8' });
      assert.is(r.status, 0, `bench/vi.ts exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
      const { meta, rows } = JSON.parse(readFileSync(join(out, 'vi-webgpu.json'), 'utf8')) as { meta: { backend: string; dtype: string }; rows: { model: string; mode: string; epochsPerSecond: number }[] };
      assert.is(meta.backend, 'webgpu');
      assert.is(meta.dtype, 'float32');
      assert.equal([...new Set(rows.map((x) => x.model))], ['random walk', 'Brock–Hommes']);
      assert.is(rows.length, 8);
      for (const x of rows) assert.ok(Number.isFinite(x.epochsPerSecond) && x.epochsPerSecond > 0, `${x.model} ${x.mode}: ${x.epochsPerSecond} epochs/s`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test.run();
