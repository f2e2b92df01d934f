/**
 * The API reference is complete: TypeDoc, with validation warnings as errors, finds a doc comment on
 * every public export and no public signature that references an unexported type (`npm run
 * docs:check`, run here so a new export without one fails the suite).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('every public export is documented (typedoc --treatValidationWarningsAsErrors)', () => {
  // typedoc's package exports hide bin/; resolve its package.json and go from there
  const typedoc = join(dirname(createRequire(import.meta.url).resolve('typedoc/package.json')), 'bin', 'typedoc');
  const r = spawnSync(process.execPath, [typedoc, '--emit', 'none', '--treatValidationWarningsAsErrors'], { cwd: root, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const warnings = out.split('\n').filter((l) => /\[(warning|error)\]/.test(l));
  assert.is(r.status, 0, `typedoc found undocumented or unexported API:\n${warnings.join('\n')}`);
});

test.run();
