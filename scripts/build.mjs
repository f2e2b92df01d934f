/**
 * Builds dist/ (plain Node ESM, .d.ts and source maps) from src/ with `tsc -p tsconfig.json`,
 * after removing the old dist/ so a file deleted from src/ cannot linger in a packed tarball.
 * npm runs it as `prepare`: on `npm ci`/`npm install` in a checkout, on installs from git and
 * from a path, and before `npm pack`/`npm publish`. TypeScript is a devDependency, so a checkout
 * that was never installed cannot build: say so, instead of a bare "tsc: not found".
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error(
    `bayestape: building dist/ needs the devDependencies (typescript), which are not installed in ${root}. ` +
      'Run `npm ci` there first (it builds dist/), then install the package again.',
  );
  process.exit(1);
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
