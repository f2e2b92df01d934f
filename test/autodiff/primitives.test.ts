/**
 * The primitive walk (issue 10 §4): every built-in primitive has its derivative and batching
 * rules (or is marked nondiff), and a kernel on each backend (or is a view, which runs none).
 * The kernel tables are also total at compile time (Record<KernelOp, ...>); this walk catches what
 * types cannot: a rule left out of a primitive, a name that differs from its key, a live backend
 * whose table lost an entry. User primitives stay open: a missing kernel is a BackendError.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { BUILTIN_OPS, KERNEL_OPS, VIEW_OPS } from '../../src/autodiff/builtins.js';
import { builtinPrimitives } from '../../src/autodiff/ops/registry.js';
import { cpuKernels } from '../../src/backends/cpu/kernels.js';
import { builtinKernels } from '../../src/backends/webgpu/kernels/registry.js';
import { findWebgpu } from '../backend-harness.js';

const gpu = await findWebgpu('primitives');

test('the primitive table holds exactly the built-in ops, each under its own name', () => {
  assert.equal(Object.keys(builtinPrimitives).sort(), [...BUILTIN_OPS].sort());
  for (const [key, prim] of Object.entries(builtinPrimitives)) assert.is(prim.name, key, `primitive under '${key}' is named '${prim.name}'`);
});

test('every built-in primitive has jvp, vjp and batch rules, or is marked nondiff', () => {
  const missing: string[] = [];
  for (const [name, prim] of Object.entries(builtinPrimitives)) {
    if (typeof prim.shape !== 'function') missing.push(`${name}: shape`);
    if (!prim.nondiff) {
      if (typeof prim.jvp !== 'function') missing.push(`${name}: jvp`);
      if (typeof prim.vjp !== 'function') missing.push(`${name}: vjp`);
    }
    // every built-in batches as one op (vmap's per-example loop is for user primitives)
    if (typeof prim.batch !== 'function') missing.push(`${name}: batch`);
  }
  assert.equal(missing, [], `rules missing: ${missing.join(', ')}`);
});

test('every built-in primitive has a kernel on each backend, or is a view that runs none', async () => {
  const cpu = await bt.ready('cpu');
  const tables: [string, Record<string, unknown>, bt.Backend | null][] = [
    ['cpu', cpuKernels, cpu],
    ['webgpu', builtinKernels, typeof gpu === 'string' ? null : gpu],
  ];
  if (typeof gpu === 'string') console.log(`[note] primitives: the live WebGPU backend is not checked (${gpu}); its kernel table still is.`);
  const missing: string[] = [];
  for (const [name, prim] of Object.entries(builtinPrimitives)) {
    const isView = (VIEW_OPS as readonly string[]).includes(name);
    assert.is(!!prim.view, isView, `${name}: view flag vs VIEW_OPS`);
    for (const [bname, table, live] of tables) {
      if (isView) {
        assert.not.ok(name in table, `${name} is a view but has a ${bname} kernel`);
        continue;
      }
      if (typeof table[name] !== 'function') missing.push(`${bname} table: ${name}`);
      if (live && !live.hasKernel(name)) missing.push(`${bname} backend: ${name}`);
    }
  }
  assert.equal(missing, [], `kernels missing: ${missing.join(', ')}`);
  for (const [bname, table] of tables) assert.equal(Object.keys(table).sort(), [...KERNEL_OPS].sort(), `${bname} kernel table has exactly the kernel ops`);
});

test('user primitives stay open: a built-in name is refused, a missing kernel is a BackendError', async () => {
  assert.throws(() => bt.definePrimitive({ name: 'cumsum', impl: { cpu: () => new Float64Array(0) }, nondiff: true }), (e: Error) => e instanceof bt.ConfigError && e.message.includes('built-in'));
  const twice = bt.definePrimitive({
    name: 'walkTestTwice',
    impl: { cpu: ([x]) => Float64Array.from(x!.data, (v) => 2 * v) },
    nondiff: true,
  });
  assert.equal(bt.withBackend('cpu', () => twice([bt.tensor([1, 2])])[0]!.toArray()), [2, 4]);
  if (typeof gpu === 'string') return;
  const x = bt.withBackend('webgpu', () => bt.tensor([1, 2], { dtype: 'float32' }));
  assert.throws(() => twice([x]), (e: Error) => e instanceof bt.BackendError && e.message.includes("'walkTestTwice'") && e.message.includes('webgpu'));
});

test.run();
