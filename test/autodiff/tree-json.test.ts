/** bt.tree.toJSON / fromJSON: exact round trips (bits, dtypes, shapes, non-finite numbers), clear errors on bad input, WebGPU. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { findWebgpu } from '../backend-harness.js';

/** The bytes of a typed array, to compare bit for bit (NaN payloads and -0 included). */
const bits = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

function throwsConfig(fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, bt.ConfigError, `${what}: ${(e as Error).name}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern, `${what}: "${(e as Error).message}"`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

test('float64 bit for bit: NaN (with a payload), ±0, denormals, ±Infinity, extremes, 1/3', () => {
  const buf = new Float64Array([NaN, -0, 0, 5e-324, -2.225073858507201e-308, Infinity, -Infinity, Number.MAX_VALUE, 1 / 3, Math.PI * 1e300]);
  new DataView(buf.buffer).setUint32(0, 0x7ff80000 | 0x1234, true); // low word: a NaN payload (little-endian)
  const x = bt.tensor(buf, { shape: [2, 5] });
  const text = JSON.stringify(bt.tree.toJSON({ x }));
  const back = bt.tree.fromJSON(text) as { x: bt.Tensor };
  assert.is(back.x.dtype, 'float64');
  assert.equal(back.x.shape, [2, 5]);
  assert.equal(bits(back.x.dataSync()), bits(x.dataSync()));
});

test('int32 keys, float32, 0-D and empty tensors, nested pytrees with host values keep everything', () => {
  const tree = {
    key: bt.random.foldIn(bt.random.key(42), 7),
    f32: bt.tensor([1.1, -2.5e-40, 3e38], { dtype: 'float32' }),
    scalar: bt.tensor(2.5),
    empty: bt.zeros([0, 3]),
    nested: [{ a: [bt.tensor([[1, 2]]), 3] }, 'text', null, true, false],
    numbers: [1, -0, NaN, Infinity, -Infinity, 1e-310, 0.1],
    $dollar: { $tensor: 'not a tag', $$two: 1 },
    missing: undefined,
  };
  const j = bt.tree.toJSON(tree) as bt.tree.TreeJSON;
  assert.is(j.format, 'bayestape.tree');
  assert.is(j.version, 1);
  const back = bt.tree.fromJSON(JSON.parse(JSON.stringify(j)));
  assert.is(back.key.dtype, 'int32');
  assert.equal(Array.from(back.key.dataSync()), Array.from(tree.key.dataSync()));
  assert.is(back.f32.dtype, 'float32');
  assert.equal(bits(back.f32.dataSync()), bits(tree.f32.dataSync()));
  assert.equal(back.scalar.shape, []);
  assert.is(back.scalar.item(), 2.5);
  assert.equal(back.empty.shape, [0, 3]);
  assert.equal(back.nested[0].a[0].shape, [1, 2]);
  assert.equal(Array.from(back.nested[0].a[0].dataSync()), [1, 2]);
  assert.equal(back.nested.slice(1), ['text', null, true, false]);
  assert.is(back.nested[0].a[1], 3);
  assert.ok(Object.is(back.numbers[1], -0), '-0 survives');
  assert.ok(Number.isNaN(back.numbers[2]));
  assert.equal(back.numbers.slice(3), [Infinity, -Infinity, 1e-310, 0.1]);
  assert.equal(back.$dollar, { $tensor: 'not a tag', $$two: 1 }, 'user keys starting with $ are escaped, not read as tags');
  assert.ok('missing' in back && back.missing === undefined);
  // the same key draws the same numbers after the round trip
  assert.equal(Array.from(bt.random.normal(back.key, [4]).dataSync()), Array.from(bt.random.normal(tree.key, [4]).dataSync()));
});

test('fromJSON casts floats on request and leaves int32 alone', () => {
  const back = bt.tree.fromJSON(bt.tree.toJSON({ x: bt.tensor([0.1, 0.2]), k: bt.random.key(1) }), { dtype: 'float32' });
  assert.is(back.x.dtype, 'float32');
  assert.is(back.k.dtype, 'int32');
  assert.equal(Array.from(back.x.dataSync()), Array.from(new Float32Array([0.1, 0.2])));
});

test('bad input → ConfigError naming what is wrong', () => {
  const good = bt.tree.toJSON({ x: bt.tensor([1, 2]) }) as bt.tree.TreeJSON;
  const edit = (f: (o: any) => void) => {
    const o = JSON.parse(JSON.stringify(good));
    f(o);
    return o;
  };
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.version = 2))), /version 2 .*newer release/, 'newer version');
  throwsConfig(() => bt.tree.fromJSON(edit((o) => delete o.version)), /version undefined/, 'no version');
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.format = 'other'))), /format is "other"/, 'format');
  throwsConfig(() => bt.tree.fromJSON('{not json'), /not JSON/, 'text');
  throwsConfig(() => bt.tree.fromJSON([1]), /got an array/, 'array');
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.tree.x.$tensor.dtype = 'int8'))), /tree\.x: unknown dtype "int8"/, 'dtype');
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.tree.x.$tensor.shape = [3]))), /tree\.x: 16 bytes of data, but float64 of shape \[3\] needs 24/, 'size');
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.tree.x.$tensor.shape = [-1]))), /shape must be an array of non-negative integers/, 'shape');
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.tree.x.$tensor.data = 'abc!'))), /not base64/, 'base64');
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.tree.x = { $blob: 1 }))), /unknown tag '\$blob'/, 'tag');
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.tree.x = { $number: 'nan' }))), /\$number must be/, 'number tag');
  throwsConfig(() => bt.tree.fromJSON(good, { device: 'cpu' } as never), /unknown option 'device'/, 'option');
  throwsConfig(() => bt.tree.toJSON({ m: new Map() }), /tree\.m is a Map/, 'class instance');
  throwsConfig(() => bt.tree.toJSON({ f: () => 1 }), /tree\.f is a function/, 'function');
  const cyc: Record<string, unknown> = {};
  cyc.self = cyc;
  throwsConfig(() => bt.tree.toJSON(cyc), /cycle/, 'cycle');
  const d = bt.tensor([1]);
  d.dispose();
  throwsConfig(() => bt.tree.toJSON([d]), /tree\[0\] is a disposed tensor/, 'disposed');
  throwsConfig(() => bt.tree.fromJSON(Promise.resolve(good)), /await/, 'promise');
  // a failed read frees the tensors it had made
  const before = bt.memory().numTensors;
  throwsConfig(() => bt.tree.fromJSON(edit((o) => (o.tree = [o.tree.x, o.tree.x, { $blob: 1 }]))), /unknown tag/, 'late error');
  assert.is(bt.memory().numTensors, before, 'no tensors left behind by a failed read');
});

const gpu = await findWebgpu('tree-json');
if (typeof gpu !== 'string') {
  test('[webgpu] toJSON reads asynchronously (await it), fromJSON restores onto WebGPU, float32 bits and int32 keys exact', async () => {
    const vals = new Float32Array([1.5, -0, 3.4028234663852886e38, 1e-45, NaN]);
    const tree = bt.withBackend('webgpu', () => ({ x: bt.tensor(vals, { shape: [5] }), k: bt.random.key(9), n: 3 }));
    const pending = bt.tree.toJSON(tree);
    assert.ok(pending instanceof Promise, 'a Promise on WebGPU');
    try {
      JSON.stringify(pending);
      assert.unreachable('stringifying the Promise must throw');
    } catch (e) {
      assert.match((e as Error).message, /await bt\.tree\.toJSON/);
    }
    const j = await pending;
    const back = bt.tree.fromJSON(JSON.stringify(j), { backend: 'webgpu' });
    assert.is(back.x.backend, 'webgpu');
    assert.equal(bits(await back.x.data()), bits(vals));
    assert.equal(Array.from(await back.k.data()), Array.from(await tree.k.data()));
    assert.is(back.n, 3);
    // and onto the CPU: the same bits
    const cpu = bt.tree.fromJSON(j, { backend: 'cpu' });
    assert.equal(bits(cpu.x.dataSync()), bits(vals));
    bt.dispose([tree, back, cpu]);
  });
} else console.log(`[note] tree-json: WebGPU round trip SKIPPED: ${gpu}`);

test.run();
