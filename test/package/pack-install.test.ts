/**
 * The package as a user gets it: `npm pack` (which runs `prepare`, i.e. the build into dist/),
 * `npm install <tarball>` into an empty temporary project (from the npm cache when it can:
 * --prefer-offline), then
 *   - the README's Quick start, its types stripped, as a plain-Node ESM consumer (`.mjs`, no tsx)
 *     with a resolve hook that refuses the `webgpu` package, so an eager import of it fails here;
 *   - the WebGPU backend from the installed package (Node, its own 'webgpu' dependency; no adapter:
 *     skipped with a [note], a failure under CI=true, as the other WebGPU tests);
 *   - the same block verbatim as a TypeScript consumer, type-checked strict with module NodeNext
 *     and without skipLibCheck (every .d.ts the package exposes is checked), once with the default
 *     libs (DOM, no @types/node), once as a Node program (lib ES2022 + @types/node, no DOM) and
 *     once with a bundler's resolution (module ESNext, moduleResolution Bundler);
 *   - a browser bundle of the installed package by esbuild (platform 'browser', nothing external),
 *     as the README tells bundler users: it must build and import nothing;
 *   - the README's browser page (its ```html block: an import map onto an esbuild bundle of the
 *     installed library), served over HTTP and loaded in headless Chromium, which must show the
 *     right gradient (no Chromium: skipped with a [note], a failure under CI=true, as test/browser).
 * Each phase is timed and the times are printed as one `[note]` line (CI budget: ~60 s in all).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transformSync } from 'esbuild';
import { findChromium } from '../browser/chromium.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'bayestape-pack-'));
const consumer = join(work, 'consumer');
const times: Record<string, number> = {};
let tarball = '';

/** Runs a command with no stdin and a time limit; fails the test with its output if it fails. */
function sh(what: string, cmd: string, args: string[], cwd: string, timeoutMs: number): string {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' },
  });
  times[what] = (times[what] ?? 0) + (Date.now() - t0) / 1000;
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) assert.unreachable(`${what}: ${cmd} ${args.join(' ')} could not run: ${r.error.message}\n${out}`);
  assert.is(r.status, 0, `${what}: ${cmd} ${args.join(' ')} exited ${r.status}:\n${out}`);
  return r.stdout;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The README's Quick start block (the first ```ts block after the heading). */
function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /## Quick start\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README.md has a "## Quick start" section with a ```ts block');
  assert.ok(m![1]!.includes("from 'bayestape'"), "the Quick start imports from 'bayestape'");
  return m![1]!;
}

test('npm pack builds dist/ (prepare) and the tarball holds dist with .d.ts, no tests', () => {
  const out = sh('pack', npm, ['pack', '--json', '--pack-destination', work], root, 180_000);
  // npm prints the build's own output before the JSON array
  const info = JSON.parse(out.slice(out.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
  const files = info[0]!.files.map((f) => f.path);
  tarball = join(work, info[0]!.filename);
  for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']) assert.ok(files.includes(f), `tarball lacks ${f}`);
  const strays = files.filter((f) => !/^(dist|src)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f));
  assert.equal(strays, [], `tarball ships files outside dist/ and src/: ${strays.join(', ')}`);
  const tests = files.filter((f) => /(^|\/)test\/|\.test\.[jt]s$/.test(f));
  assert.equal(tests, [], `tarball ships tests: ${tests.join(', ')}`);
  // every module of the library was emitted with its declarations
  const srcModules = files.filter((f) => f.startsWith('src/') && f.endsWith('.ts'));
  const missing = srcModules.flatMap((f) => {
    const base = f.replace(/^src\//, 'dist/').replace(/\.ts$/, '');
    return [`${base}.js`, `${base}.d.ts`].filter((g) => !files.includes(g));
  });
  assert.equal(missing, [], `dist lacks: ${missing.slice(0, 10).join(', ')}`);
  times['tarball kB'] = Math.round(statSync(tarball).size / 1024);
});

test('npm install <tarball> into an empty project', () => {
  assert.ok(tarball, 'no tarball (npm pack failed)');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  sh('install', npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], consumer, 240_000);
  const pkg = join(consumer, 'node_modules', 'bayestape');
  assert.ok(existsSync(join(pkg, 'dist', 'index.js')), 'node_modules/bayestape/dist/index.js exists');
  assert.not.ok(existsSync(join(pkg, 'node_modules')), 'no nested node_modules (no devDependencies pulled in)');
});

test("the README's Quick start runs as a plain-Node ESM consumer, without loading 'webgpu'", () => {
  assert.ok(existsSync(join(consumer, 'node_modules', 'bayestape')), 'not installed');
  const js = transformSync(quickStart(), { loader: 'ts', format: 'esm' }).code;
  writeFileSync(join(consumer, 'quickstart.mjs'), js);
  // a resolve hook that refuses 'webgpu': the CPU path must never import Dawn's bindings
  writeFileSync(
    join(consumer, 'hooks.mjs'),
    "export async function resolve(s, c, next) { if (s === 'webgpu') throw new Error('webgpu imported (refused by the test)'); return next(s, c); }\n",
  );
  writeFileSync(join(consumer, 'no-webgpu.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
  const out = sh('run', process.execPath, ['--import', './no-webgpu.mjs', 'quickstart.mjs'], consumer, 60_000);
  assert.match(out, /numTensors/, `the Quick start printed its memory line:\n${out}`);

  // its numbers are right (∇ of Σ sin(x) x² is cos(x) x² + 2x sin(x)), and the hook does bite:
  // asking for the WebGPU backend goes through the refused lazy import and says how to install it
  writeFileSync(
    join(consumer, 'check.mjs'),
    `import * as bt from 'bayestape';
const xs = [0.5, -1, 2];
const g = bt.grad((x) => bt.sum(bt.sin(x).mul(x.square())))(bt.tensor(xs)).toArray();
const err = Math.max(...xs.map((x, i) => Math.abs(g[i] - (Math.cos(x) * x * x + 2 * x * Math.sin(x)))));
if (!(err < 1e-12)) throw new Error('gradient off by ' + err);
let msg = 'resolved';
try { await bt.ready('webgpu'); } catch (e) { msg = e.constructor.name + ': ' + e.message; }
console.log(msg);
`,
  );
  const msg = sh('run', process.execPath, ['--import', './no-webgpu.mjs', 'check.mjs'], consumer, 60_000);
  assert.match(msg, /BackendError: .*could not load the npm package 'webgpu'.*refused by the test/);
});

test("the installed package reaches WebGPU in Node through its lazy import of the 'webgpu' dependency", () => {
  assert.ok(existsSync(join(consumer, 'node_modules', 'bayestape')), 'not installed');
  writeFileSync(
    join(consumer, 'gpu.mjs'),
    `import * as bt from 'bayestape';
try { await bt.ready('webgpu'); } catch (e) { console.log('NO ADAPTER: ' + e.message.split('\\n')[0]); process.exit(0); }
bt.setBackend('webgpu');
const g = bt.grad((x) => bt.sum(bt.sin(x).mul(x.square())))(bt.tensor([0.5, -1, 2]));
console.log('grad: ' + JSON.stringify(Array.from(await g.data())));
process.exit(0);
`,
  );
  const out = sh('webgpu', process.execPath, ['gpu.mjs'], consumer, 120_000);
  const none = /NO ADAPTER: (.*)/.exec(out);
  if (none) {
    // the package loaded (a BackendError about the adapter, not about a missing 'webgpu' module)
    assert.not.match(none[1]!, /could not load the npm package 'webgpu'/, `the installed package cannot import 'webgpu': ${none[1]}`);
    if (process.env.CI === 'true') assert.unreachable(`CI=true but no WebGPU adapter: ${none[1]}`);
    console.log(`[note] pack-install: WebGPU check SKIPPED (no adapter: ${none[1]}). With CI=true this is a failure.`);
    return;
  }
  const m = /grad: (\[[^\]]*\])/.exec(out);
  assert.ok(m, `no gradient printed:\n${out}`);
  const g = JSON.parse(m![1]!) as number[];
  const xs = [0.5, -1, 2];
  const err = Math.max(...xs.map((x, i) => Math.abs(g[i]! - (Math.cos(x) * x * x + 2 * x * Math.sin(x)))));
  assert.ok(err < 1e-5, `the WebGPU (float32) gradient ${m![1]} is off by ${err}`);
});

function typecheck(what: string, options: Record<string, unknown>): void {
  writeFileSync(join(consumer, 'quickstart.ts'), quickStart());
  const config = {
    compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false, ...options },
    files: ['quickstart.ts'],
  };
  writeFileSync(join(consumer, `tsconfig.${what}.json`), JSON.stringify(config, null, 2));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  sh('tsc', process.execPath, [tsc, '-p', `tsconfig.${what}.json`, '--pretty', 'false'], consumer, 120_000);
}

test('a TypeScript consumer type-checks: strict, NodeNext, no skipLibCheck (default libs, no @types/node)', () => {
  assert.ok(existsSync(join(consumer, 'node_modules', 'bayestape')), 'not installed');
  typecheck('dom', { types: [] });
});

test('a TypeScript consumer type-checks as a Node program: lib ES2022 (no DOM) + @types/node', () => {
  assert.ok(existsSync(join(consumer, 'node_modules', 'bayestape')), 'not installed');
  typecheck('node', { lib: ['ES2022'], typeRoots: [join(root, 'node_modules', '@types')], types: ['node'] });
});

test("a TypeScript consumer type-checks with a bundler's resolution (module ESNext, moduleResolution Bundler)", () => {
  assert.ok(existsSync(join(consumer, 'node_modules', 'bayestape')), 'not installed');
  typecheck('bundler', { module: 'ESNext', moduleResolution: 'Bundler', types: [] });
});

test('esbuild bundles the installed package for the browser with nothing external and no imports left', async () => {
  assert.ok(existsSync(join(consumer, 'quickstart.mjs')), 'no quickstart.mjs');
  const t0 = Date.now();
  const r = await build({
    entryPoints: [join(consumer, 'quickstart.mjs')],
    absWorkingDir: consumer,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  times['bundle'] = (Date.now() - t0) / 1000;
  const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  assert.equal(imports, [], `the bundle still imports: ${imports.join(', ')}`);
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((f) => f.includes('node_modules/bayestape/dist/')), 'the bundle is built from the installed dist/');
  assert.not.ok(inputs.some((f) => f.includes('node_modules/webgpu/')), 'the webgpu package is not bundled');
});

/** The README's browser-page block (the first ```html block after "### In a browser page"). */
function browserPage(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /### In a browser page\n[\s\S]*?```html\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README.md has a "### In a browser page" section with a ```html block');
  return m![1]!;
}

test("the README's browser page (an import map onto an esbuild bundle of the installed package) runs in headless Chromium", async () => {
  assert.ok(existsSync(join(consumer, 'node_modules', 'bayestape')), 'not installed');
  const web = join(consumer, 'web');
  mkdirSync(web, { recursive: true });
  writeFileSync(join(web, 'index.html'), browserPage());
  const t0 = Date.now();
  // as the README's command: npx esbuild node_modules/bayestape/dist/index.js --bundle --format=esm --platform=browser
  const r = await build({
    entryPoints: [join(consumer, 'node_modules', 'bayestape', 'dist', 'index.js')],
    absWorkingDir: consumer,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: join(web, 'bayestape.js'),
    metafile: true,
    logLevel: 'silent',
  });
  times['bundle'] = (times['bundle'] ?? 0) + (Date.now() - t0) / 1000;
  const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  assert.equal(imports, [], `the library bundle still imports: ${imports.join(', ')}`);

  const chromium = findChromium();
  if (!chromium) {
    if (process.env.CI === 'true') assert.unreachable('CI=true but no Chromium (set CHROMIUM_PATH or run .ci/install-system.sh)');
    console.log('[note] pack-install: browser page SKIPPED: no Chromium (set CHROMIUM_PATH). With CI=true this is a failure.');
    return;
  }
  // module scripts do not load from file:// URLs: serve the folder, as the README says
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0] === '/' ? 'index.html' : (req.url ?? '').slice(1).split('?')[0]!;
    const path = join(web, name);
    if (!/^[\w.-]+$/.test(name) || !existsSync(path)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': name.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(readFileSync(path));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const t1 = Date.now();
  const out = await new Promise<string>((ok) => {
    execFile(
      chromium,
      ['--headless=new', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=10000', '--dump-dom', `http://127.0.0.1:${port}/`],
      { timeout: 60_000, maxBuffer: 1 << 24 },
      (_err, stdout) => ok(stdout ?? ''),
    );
  });
  server.close();
  times['chromium'] = (Date.now() - t1) / 1000;
  const m = /grad: (\[[^\]]*\])/.exec(out);
  assert.ok(m, `the page did not print its gradient; its DOM:\n${out.slice(0, 2000)}`);
  const g = JSON.parse(m![1]!) as number[];
  const xs = [0.5, -1, 2];
  const err = Math.max(...xs.map((x, i) => Math.abs(g[i]! - (Math.cos(x) * x * x + 2 * x * Math.sin(x)))));
  assert.ok(err < 1e-12, `the page's gradient ${m![1]} is off by ${err}`);
});

test.after(() => {
  const total = Object.entries(times).filter(([k]) => k !== 'tarball kB').reduce((s, [, v]) => s + v, 0);
  const parts = Object.entries(times).map(([k, v]) => (k === 'tarball kB' ? `tarball ${v} kB` : `${k} ${v.toFixed(1)} s`));
  console.log(`[note] pack-install: ${parts.join(', ')}; ${total.toFixed(1)} s in all`);
  rmSync(work, { recursive: true, force: true });
});

test.run();
