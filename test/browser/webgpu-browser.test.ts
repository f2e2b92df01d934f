/**
 * The library in a real browser: bundles test/browser/page.ts (which imports src/index.ts) with
 * esbuild for platform 'browser', serves it from 127.0.0.1, and runs it in headless Chromium,
 * driven over the DevTools protocol (--remote-debugging-pipe; see chromium.ts). The page checks
 * the CPU backend alone (no Node, no worker thread) and then WebGPU through navigator.gpu against
 * the CPU in the same page; each check it reports becomes one uvu test here, plus a Node-side
 * comparison of the page's CPU random.normal(key(7)) with Node's.
 *
 * Policy as for the other WebGPU tests (test/webgpu/setup.ts): without Chromium, or when it gives
 * no WebGPU adapter, the affected tests fail under CI=true and are otherwise skipped with a loud
 * `[note] ... SKIPPED` line. A bundle that does not build, a page that throws or times out, or a
 * failing check is a failure everywhere. The browser is always killed; every wait has a timeout.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import * as bt from '../../src/index.js';
import { Chromium, findChromium, WEBGPU_FLAGS, type CdpEvent } from './chromium.js';
import type { CheckResult, PageResult } from './page.js';

const PAGE_TIMEOUT_MS = 40000;
const WATCHDOG_MS = 50000;
const inCI = process.env.CI === 'true';
const t0 = Date.now();

/** No Chromium or no adapter: a failing test in CI, a loud note elsewhere. */
function unavailable(what: string, reason: string): void {
  if (inCI) {
    test(`browser: ${what} is available in CI`, () => {
      assert.unreachable(`CI=true but ${reason}`);
    });
  } else {
    console.log(`[note] browser tests (${what}) SKIPPED: ${reason}. With CI=true this is a failure.`);
  }
}

// ---------------------------------------------------------------- bundle
const entry = fileURLToPath(new URL('./page.ts', import.meta.url));
let bundle = '';
let bundleError: string | null = null;
let metafile: Metafile | undefined;
try {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome113',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  bundle = r.outputFiles[0]!.text;
  metafile = r.metafile;
} catch (e) {
  const errors = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
  bundleError = errors?.length
    ? errors.map((x) => `${x.location ? `${x.location.file}:${x.location.line}: ` : ''}${x.text}`).join('\n')
    : String(e);
}

test('browser: src bundles for platform "browser" (esm) with no Node built-ins', () => {
  assert.is(bundleError, null, `esbuild failed:\n${bundleError}`);
  const imports = Object.values(metafile!.outputs).flatMap((o) => o.imports.map((i) => i.path));
  assert.equal(imports, [], `the bundle still imports: ${imports.join(', ')}`);
  const inputs = Object.keys(metafile!.inputs);
  assert.ok(inputs.some((f) => f.endsWith('src/index.ts')), 'src/index.ts is in the bundle');
});

// ---------------------------------------------------------------- run it in Chromium
const executable = findChromium();
let result: PageResult | null = null;
let pageError: string | null = null;
let partial: CheckResult[] = [];
let version = '';
const consoleLines: string[] = [];

function serve(js: string): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><title>bayestape</title><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(js);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server)); // http://127.0.0.1 is a secure context: navigator.gpu exists
  });
}

function recordConsole(e: CdpEvent): void {
  if (e.method === 'Runtime.consoleAPICalled') {
    const args = (e.params.args as { value?: unknown; description?: string }[]) ?? [];
    consoleLines.push(`console.${e.params.type}: ${args.map((a) => (a.value !== undefined ? String(a.value) : a.description ?? '')).join(' ')}`);
  } else if (e.method === 'Runtime.exceptionThrown') {
    const d = e.params.exceptionDetails as { text: string; exception?: { description?: string } };
    consoleLines.push(`uncaught: ${d.exception?.description ?? d.text}`);
  }
}

if (executable && !bundleError) {
  const server = await serve(bundle);
  const browser = Chromium.launch(executable);
  browser.onEvent = recordConsole;
  // a backstop under the per-command timeouts: whatever hangs, the browser is gone by then
  const watchdog = setTimeout(() => void browser.close(0), WATCHDOG_MS);
  try {
    const v = (await browser.send('Browser.getVersion')) as { product?: string };
    version = v.product ?? '';
    const session = await browser.newPage(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    try {
      // the module script may not have run yet when navigate returns: poll for the promise it leaves
      result = await browser.evaluate<PageResult>(
        session,
        `new Promise((resolve) => { const poll = () => (globalThis.__bayestape ? resolve(globalThis.__bayestape) : setTimeout(poll, 20)); poll(); })`,
        PAGE_TIMEOUT_MS,
      );
    } catch (e) {
      pageError = (e as Error).message;
      try {
        partial = await browser.evaluate<CheckResult[]>(session, 'globalThis.__bayestapeProgress ?? []', 3000);
      } catch {
        /* the page is gone */
      }
    }
  } catch (e) {
    pageError = (e as Error).message;
  } finally {
    clearTimeout(watchdog);
    await browser.close();
    server.close();
    server.closeAllConnections();
  }
  if (pageError) pageError += `\nchromium stderr (tail):\n${browser.stderrTail()}`;
}

// ---------------------------------------------------------------- results as tests
const diag = () =>
  [consoleLines.length ? `page console:\n  ${consoleLines.slice(-30).join('\n  ')}` : '', partial.length ? `checks that finished: ${partial.map((c) => `${c.ok ? 'ok' : 'FAILED'} ${c.name}`).join('; ')}` : '']
    .filter(Boolean)
    .join('\n');

function register(c: CheckResult): void {
  test(`browser ${c.group}: ${c.name}`, () => {
    assert.ok(c.ok, `${c.message}${consoleLines.length ? `\n${diag()}` : ''}`);
  });
}

if (!executable) {
  unavailable('headless Chromium', 'no Chromium found (install the Debian package `chromium`, e.g. `bash .ci/install-system.sh`, or set CHROMIUM_PATH)');
} else if (!bundleError) {
  if (pageError || !result) {
    test('browser: the page ran its checks in headless Chromium', () => {
      assert.unreachable(`${pageError ?? 'no result'}\n${diag()}`);
    });
  } else {
    const r = result;
    test('browser: the page is a secure context with navigator.gpu and without Node globals', () => {
      assert.ok(r.env.secureContext, 'not a secure context');
      assert.not.ok(r.env.hasProcess, 'the page has a `process` global');
    });
    for (const c of r.checks.filter((c) => c.group === 'cpu')) register(c);

    test("browser cpu: random.normal(key(7), [10000]) in the page equals Node's CPU draw to float32 rounding", async () => {
      const z = bt.withBackend('cpu', () => bt.random.normal(bt.random.key(7), [10000], { dtype: 'float32' }));
      const want = await z.data();
      z.dispose();
      assert.is(r.cpuNormal7.length, want.length);
      for (let i = 0; i < want.length; i++) {
        const g = r.cpuNormal7[i]!;
        const w = want[i]!;
        if (!(Math.abs(g - w) <= 2e-7 + 4e-6 * Math.abs(w))) assert.unreachable(`entry ${i}: browser ${g}, node ${w}`);
      }
    });

    if (r.adapter) {
      const a = r.adapter;
      console.log(`[note] chromium webgpu adapter: ${a.label}${a.isFallbackAdapter ? ' (fallback adapter)' : ''}; ${version}; flags ${WEBGPU_FLAGS.join(' ')}`);
      for (const c of r.checks.filter((c) => c.group === 'webgpu')) register(c);
    } else {
      unavailable('WebGPU in headless Chromium', `${version || 'chromium'} gave no WebGPU adapter with flags ${WEBGPU_FLAGS.join(' ')} (navigator.gpu ${r.env.hasNavigatorGpu ? 'exists' : 'is missing'}; ${r.webgpuError})`);
    }
  }
}

test.after(() => {
  console.log(`\n[note] browser test: ${((Date.now() - t0) / 1000).toFixed(1)} s (bundle ${(bundle.length / 1024).toFixed(0)} kB${result ? `, page checks ${(result.checks.reduce((s, c) => s + c.ms, 0) / 1000).toFixed(1)} s` : ''})`);
});

test.run();
